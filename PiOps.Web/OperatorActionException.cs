namespace PiOps.Web;

/// <summary>
/// An operator's action (on the queue or on the workloads) that was refused or failed, with a sentence for the
/// operator; nothing half-done. One type for every action, so pages, the hub and the API catch one thing.
/// </summary>
public sealed class OperatorActionException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The edit was refused because the object changed after the form was opened: the form should reload.</summary>
    public bool Stale { get; init; }

    /// <summary>
    /// The refusal of an edit made from a stale form (Kubernetes: 409 Conflict on metadata.resourceVersion), the same
    /// sentence on both runtimes.
    /// </summary>
    public static OperatorActionException StaleEdit(string kind, string name, string? apiSaid = null) =>
        new($"Someone else changed the {kind} {name} after this form was opened, so your save was refused and their change stays. " +
            $"Reload the form to see the {kind} as it is now, then make your change again.{apiSaid}") { Stale = true };
}
