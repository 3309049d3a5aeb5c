using PiOps.Web.Audit;
using PiOps.Web.Workloads;

namespace PiOps.Web.Security;

/// <summary>
/// The one guard every change passes, whatever path it came by (a page, the API, the hub) and whatever it changes (the
/// queue or the workloads): refused unless the user may operate, run with the user passed to it (an <see cref="Actor"/>,
/// which the Kubernetes runtime impersonates and names on what it creates), and written to the audit trail with its
/// outcome.
/// </summary>
public sealed class OperatorGuard(UserContext user, AuditLog audit, TimeProvider time)
{
    /// <param name="action">The audit's verb, also said in a refusal: "delete job".</param>
    /// <param name="describe">What the audit adds once the change has run, from its result: the ids an enqueue made.</param>
    public async Task<T> ActAsync<T>(string action, string target, string parameters, Func<Actor, Task<T>> act, Func<T, string>? describe = null)
    {
        if (!user.CanOperate)
        {
            await audit.WriteAsync(Entry(action, target, parameters, false, "refused: " + user.Role));
            throw new OperatorActionException($"You are signed in as {user.Name} ({user.Role}): only an Operator or an Admin may {action}. Nothing was changed.");
        }

        try
        {
            var result = await act(new Actor(user.Name, user.Role));
            await audit.WriteAsync(Entry(action, target, describe is null ? parameters : $"{parameters}: {describe(result)}", true, null));
            return result;
        }
        catch (Exception ex) when (ex is OperatorActionException or OperationCanceledException)
        {
            await audit.WriteAsync(Entry(action, target, parameters, false, ex.Message));
            throw;
        }
    }

    public Task ActAsync(string action, string target, string parameters, Func<Actor, Task> act) =>
        ActAsync(action, target, parameters, async by =>
        {
            await act(by);
            return true;
        });

    /// <summary>An audit entry for what was asked and did not reach <see cref="ActAsync{T}"/>: input refused before it ran.</summary>
    public Task RecordAsync(string action, string target, string parameters, bool succeeded, string? outcome) =>
        audit.WriteAsync(Entry(action, target, parameters, succeeded, outcome));

    private AuditEntry Entry(string action, string target, string parameters, bool ok, string? error) =>
        user.Audit(time.GetUtcNow(), action, target, parameters, ok, error);
}
