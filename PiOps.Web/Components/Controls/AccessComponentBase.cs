using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using PiOps.Web.Security;

namespace PiOps.Web.Components.Controls;

/// <summary>
/// Knows what the signed-in user may do, so pages disable what they may not. The server refuses it anyway (the
/// guarded queue operations and workload runtime); this only keeps the page honest about it.
/// </summary>
public abstract class AccessComponentBase : ComponentBase
{
    [CascadingParameter]
    private Task<AuthenticationState>? AuthenticationState { get; set; }

    /// <summary>Operator or Admin: may enqueue, purge, pause, handle dead letters, Jobs, CronJobs and scaling.</summary>
    protected bool CanOperate { get; private set; }

    protected bool IsAdmin { get; private set; }

    /// <summary>The zone clock times are shown in: the browser's, or UTC by the operator's choice (from the layout).</summary>
    [CascadingParameter]
    protected DisplayZone Zone { get; set; } = DisplayZone.Utc;

    protected override async Task OnParametersSetAsync()
    {
        if (AuthenticationState is not null)
        {
            var user = (await AuthenticationState).User;
            CanOperate = user.IsInRole(Roles.Operator) || user.IsInRole(Roles.Admin);
            IsAdmin = user.IsInRole(Roles.Admin);
        }

        await base.OnParametersSetAsync();
    }
}
