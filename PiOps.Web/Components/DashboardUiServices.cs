using System.Text.Json;
using System.Text.Json.Serialization;
using MudBlazor;
using MudBlazor.Services;
using PiOps.Web.Observability;

namespace PiOps.Web.Components;

/// <summary>The pages and what the dashboard serves beside them: the API's and the hub's JSON, OpenAPI, health, metrics.</summary>
public static class DashboardUiServices
{
    public static WebApplicationBuilder AddDashboardUi(this WebApplicationBuilder builder)
    {
        // Serve the static assets of referenced packages (MudBlazor) from the build output too, not only in Development.
        builder.WebHost.UseStaticWebAssets();
        var services = builder.Services;
        services.AddScoped<Controls.Announcer>();
        services.AddScoped<Controls.ActionRunner>();
        services.AddScoped<Live.LiveViews>();
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices(c =>
        {
            c.SnackbarConfiguration.PositionClass = Defaults.Classes.Position.BottomRight;
            c.SnackbarConfiguration.VisibleStateDuration = 6000;
        });
        // Enums read as words in the API and the hub ("queued", not 0).
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase)));
        services.AddSignalR().AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase)));
        services.AddProblemDetails();
        services.AddOpenApi();
        services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: ["ready"]);
        services.AddHostedService<QueueMetrics>();
        services.AddHostedService<StartupBanner>();
        return builder;
    }
}
