using PiOps.Web.Configuration;

namespace PiOps.Web.HighAvailability;

/// <summary>What lets several dashboard replicas share one Redis: the leases of the duties only one of them runs.</summary>
public static class HighAvailabilityServices
{
    /// <summary>Before the duties' services (the queue monitor, the local runtime): hosted services start in this order.</summary>
    public static WebApplicationBuilder AddHighAvailability(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<LeaseOptions>(LeaseOptions.Section, o => o.Validate());
        services.AddSingleton<DashboardLeases>();
        services.AddHostedService(sp => sp.GetRequiredService<DashboardLeases>());
        return builder;
    }
}
