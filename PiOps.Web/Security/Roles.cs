namespace PiOps.Web.Security;

/// <summary>
/// Who may do what. Viewer sees everything and changes nothing; Operator also acts on the queue and the workloads;
/// Admin also manages API tokens and settings.
/// </summary>
public static class Roles
{
    public const string Viewer = "Viewer";
    public const string Operator = "Operator";
    public const string Admin = "Admin";

    /// <summary>Policy: enqueue, purge, pause, dead letters, Jobs, CronJobs, scaling.</summary>
    public const string Operate = "Operate";

    /// <summary>Policy: API tokens and settings.</summary>
    public const string Administer = "Administer";

    public static readonly string[] All = [Viewer, Operator, Admin];

    /// <summary>The role named, whatever its case; null when it is not one.</summary>
    public static string? Parse(string? role) => All.FirstOrDefault(r => string.Equals(r, role?.Trim(), StringComparison.OrdinalIgnoreCase));

    public static bool CanOperate(string? role) => role is Operator or Admin;
}
