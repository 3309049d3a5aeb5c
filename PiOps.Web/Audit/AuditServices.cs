using PiOps.Web.Configuration;

namespace PiOps.Web.Audit;

/// <summary>The audit trail's registrations (section "Audit").</summary>
public static class AuditServices
{
    public static WebApplicationBuilder AddAudit(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<AuditOptions>(AuditOptions.Section, o => o.Validate());
        builder.Services.AddSingleton<AuditLog>();
        return builder;
    }
}
