namespace PiOps.Web.Kubernetes;

/// <summary>
/// With Auth:Impersonate on, each call made for a signed-in user carries Impersonate-User (their name) and
/// Impersonate-Group (piops:ROLE), so the cluster's own RBAC decides; the dashboard's service account then needs the
/// impersonate verb on users and groups. Calls of its own (the cache's lists and watches) go as the service account.
/// </summary>
public sealed class ImpersonationHandler : DelegatingHandler
{
    public const string GroupPrefix = "piops:";

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (Security.ActingUser.Value is { } user)
        {
            request.Headers.Remove("Impersonate-User");
            request.Headers.Remove("Impersonate-Group");
            request.Headers.TryAddWithoutValidation("Impersonate-User", user.Name);
            // The chart binds the groups piops:viewer, piops:operator and piops:admin, lower case as RBAC names go.
            request.Headers.TryAddWithoutValidation("Impersonate-Group", GroupPrefix + user.Role.ToLowerInvariant());
        }

        return base.SendAsync(request, cancellationToken);
    }
}
