namespace PiOps.Web.Security;

/// <summary>Who may reach the dashboard (section "Access").</summary>
public sealed class AccessOptions
{
    public const string Section = "Access";

    /// <summary>
    /// Serve requests from other machines. Off by default: until sign-in is configured, the dashboard, which can purge
    /// queues, answers only this machine (kubectl port-forward counts as this machine). Turn on only behind a proxy
    /// that authenticates.
    /// </summary>
    public bool AllowRemote { get; set; }

    /// <summary>Nothing to check beyond binding; registered like every section so a value that does not bind stops the start.</summary>
    public IEnumerable<string> Validate() => [];
}
