using System.Text.Json.Nodes;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// Admission refusals of creates (a ResourceQuota used up, a validating webhook that says no) and server-side dry runs,
/// in the order and words of the API server.
/// </summary>
public sealed partial class KubeApiDouble
{
    private readonly List<CreateRefusal> _refusals = [];

    /// <summary>A refusal of creates of one resource: on dry runs too (as admission runs on them), or on real ones only.</summary>
    private sealed class CreateRefusal(string plural, int code, string? reason, Func<ApiKind, string, string> message, bool dryRunToo, int? times)
    {
        public string Plural { get; } = plural;
        public int Code { get; } = code;
        public string? Reason { get; } = reason;
        public Func<ApiKind, string, string> Message { get; } = message;
        public bool DryRunToo { get; } = dryRunToo;
        public int? Left { get; set; } = times;
    }

    /// <summary>Dry-run creates so far (<c>dryRun=All</c>), by resource.</summary>
    public int DryRuns(string plural) => _requests.GetValueOrDefault($"dry-run create {plural}");

    /// <summary>
    /// Creates of <paramref name="plural"/> are refused by the ResourceQuota <paramref name="quota"/> (403), as the quota
    /// admission plugin refuses them: staging/src/k8s.io/apiserver/pkg/admission/plugin/resourcequota/controller.go
    /// (checkRequest: "exceeded quota: %s, requested: %s, used: %s, limited: %s"), wrapped by admission.NewForbidden and
    /// apimachinery/pkg/api/errors/errors.go NewForbidden ("%s %q is forbidden: %v", the group-qualified resource). The
    /// quota is checked on dry runs as well (checkRequest only skips reserving the usage when req.DryRun).
    /// </summary>
    public void RefuseCreatesByQuota(string plural, string quota, int limit, bool dryRunToo = true, int? times = null)
    {
        lock (_gate)
        {
            _refusals.Add(new CreateRefusal(plural, 403, "Forbidden", (kind, name) =>
            {
                string counted = $"count/{kind.Resource}";
                return $"{kind.Resource} \"{name}\" is forbidden: exceeded quota: {quota}, requested: {counted}=1, used: {counted}={limit}, limited: {counted}={limit}";
            }, dryRunToo, times));
        }
    }

    /// <summary>
    /// Creates of <paramref name="plural"/> are denied by the validating webhook <paramref name="webhook"/> with the code and
    /// message it returned, as staging/src/k8s.io/apiserver/pkg/admission/plugin/webhook/errors/statuserror.go (ToStatusErr)
    /// relays them: "admission webhook %q denied the request: %s", the webhook's code (at least 400), no reason of its own.
    /// A webhook declared <c>sideEffects: None</c> is called on dry runs too.
    /// </summary>
    public void RefuseCreatesByWebhook(string plural, string webhook, string message, int code = 422, bool dryRunToo = true, int? times = null)
    {
        lock (_gate)
        {
            _refusals.Add(new CreateRefusal(plural, Math.Max(code, 400), null, (_, _) => $"admission webhook \"{webhook}\" denied the request: {message}", dryRunToo, times));
        }
    }

    public void StopRefusingCreates()
    {
        lock (_gate)
        {
            _refusals.Clear();
        }
    }

    /// <summary>Validating admission, after the object's own validation and before storage (under <see cref="_gate"/>).</summary>
    private (int, JsonNode)? Admit(ApiKind kind, string name, bool dryRun)
    {
        foreach (var refusal in _refusals)
        {
            if (refusal.Plural != kind.Plural || (dryRun && !refusal.DryRunToo) || refusal.Left is <= 0)
            {
                continue;
            }

            refusal.Left--;
            var details = refusal.Code == 403 ? new JsonObject { ["name"] = name, ["group"] = kind.Group, ["kind"] = kind.Plural } : null;
            return (refusal.Code, StatusObject(refusal.Code, refusal.Reason, refusal.Message(kind, name), details));
        }

        return null;
    }
}
