using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.SignalR;

namespace PiOps.Web.Security;

/// <summary>
/// Who is acting in this scope (an HTTP request, a hub call, or a page's circuit), from where and through what. The
/// guards read it; it is set once per scope by the middleware, the hub filter or the circuit handler below.
/// </summary>
public sealed class UserContext
{
    public ClaimsPrincipal User { get; set; } = new(new ClaimsIdentity());

    public string Address { get; set; } = "unknown";

    /// <summary>page, api or hub.</summary>
    public string Via { get; set; } = "page";

    public string Name => User.Identity?.IsAuthenticated == true ? User.Identity.Name ?? "unnamed" : "anonymous";

    /// <summary>The highest role held, or "none".</summary>
    public string Role => Roles.All.LastOrDefault(User.IsInRole) ?? "none";

    public bool CanOperate => User.IsInRole(Roles.Operator) || User.IsInRole(Roles.Admin);

    public bool IsAdmin => User.IsInRole(Roles.Admin);

    /// <summary>An audit entry of this user's action, from here and now.</summary>
    public Audit.AuditEntry Audit(DateTimeOffset at, string action, string target, string parameters, bool succeeded, string? error) =>
        new(at, Name, Role, Address, Via, action, target, parameters, succeeded, error);
}

/// <summary>Sets the <see cref="UserContext"/> of each HTTP request after authentication.</summary>
public sealed class UserContextMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context, UserContext user)
    {
        user.User = context.User;
        user.Address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        user.Via = context.Request.Path.StartsWithSegments("/api") ? "api" : "page";
        return next(context);
    }
}

/// <summary>Sets the <see cref="UserContext"/> of each hub call from the connection's user.</summary>
public sealed class UserContextHubFilter : IHubFilter
{
    public ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var user = invocationContext.ServiceProvider.GetRequiredService<UserContext>();
        user.User = invocationContext.Context.User ?? new ClaimsPrincipal(new ClaimsIdentity());
        user.Address = invocationContext.Context.GetHttpContext()?.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        user.Via = "hub";
        return next(invocationContext);
    }
}

/// <summary>
/// Sets the <see cref="UserContext"/> of a page's circuit from its authentication state, and keeps it current (the
/// pattern of ASP.NET Core's docs for services in circuits, where HttpContext is not available).
/// </summary>
public sealed class UserCircuitHandler(AuthenticationStateProvider provider, UserContext user, IHttpContextAccessor http) : CircuitHandler, IDisposable
{
    public override async Task OnConnectionUpAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        user.Via = "page";
        if (http.HttpContext?.Connection.RemoteIpAddress is { } address)
        {
            user.Address = address.ToString();
        }

        user.User = (await provider.GetAuthenticationStateAsync()).User;
        provider.AuthenticationStateChanged += OnChanged;
    }

    private async void OnChanged(Task<AuthenticationState> state)
    {
        try
        {
            user.User = (await state).User;
        }
        catch (InvalidOperationException)
        {
            // The circuit is going away.
        }
    }

    public void Dispose() => provider.AuthenticationStateChanged -= OnChanged;
}
