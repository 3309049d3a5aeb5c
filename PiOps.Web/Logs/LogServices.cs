using PiOps.Web.Configuration;

namespace PiOps.Web.Logs;

/// <summary>The Logs page's and the hub's shared streams (section "Logs"); the runtime chosen registers the pod log source.</summary>
public static class LogServices
{
    public static WebApplicationBuilder AddLogs(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<LogOptions>(LogOptions.Section, o => o.Validate());
        builder.Services.AddSingleton<LogTailer>();
        return builder;
    }
}
