using PiOps.Shared.Redis;
using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;

namespace PiOps.Web.Security;

/// <summary>
/// Ends what is open when its sign-in ends. A hub connection is authenticated once, when it connects; this checks
/// every open one again each <see cref="Interval"/> (a revoked API token, a signed-out or expired cookie session) and
/// aborts it, which ends its streams. Hub calls and circuits are checked as they come (see the filter and handlers below).
/// </summary>
public sealed class LiveSessions(UserSessions sessions, ApiTokens tokens, TimeProvider time, ILogger<LiveSessions> log) : BackgroundService
{
    /// <summary>How often open hub connections are checked again: a revoked token's stream ends within about this.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, HubCallerContext> _connections = new();

    /// <summary>Why this principal may no longer act, or null while it may.</summary>
    public async Task<string?> CheckAsync(ClaimsPrincipal? principal)
    {
        if (principal?.Identity is { IsAuthenticated: true, AuthenticationType: ApiTokenHandler.SchemeName })
        {
            string? hash = principal.FindFirstValue(ApiTokenHandler.TokenClaim);
            return hash is not null && await tokens.ExistsAsync(hash) ? null : "the API token was revoked";
        }

        return principal is null ? null : await sessions.CheckAsync(principal);
    }

    public void Add(HubCallerContext connection) => _connections[connection.ConnectionId] = connection;

    public void Remove(HubCallerContext connection) => _connections.TryRemove(connection.ConnectionId, out _);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            // Pipelined: every connection's check is sent before any is awaited.
            await Task.WhenAll(_connections.Values.Select(EndIfOverAsync));
        }
    }

    private async Task EndIfOverAsync(HubCallerContext connection)
    {
        try
        {
            if (await CheckAsync(connection.User) is { } reason)
            {
                log.LogInformation("Hub connection of {User} ended: {Reason}", connection.User?.Identity?.Name, reason);
                Remove(connection);
                connection.Abort();
            }
        }
        catch (Exception ex) when (RedisFailure.Is(ex))
        {
            // Redis is away: the next tick asks again. Nothing new can be done without it either.
            log.LogDebug(ex, "Could not check the hub connection of {User}", connection.User?.Identity?.Name);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Never let one connection stop the checks of the others (or, unhandled, the host).
            log.LogWarning(ex, "Could not check the hub connection of {User}", connection.User?.Identity?.Name);
        }
    }
}

/// <summary>
/// A hub whose calls and open connections <see cref="LiveSessions"/> checks (the API's queue hub). A page's circuit, on
/// Blazor's own hub, is not one: it is sent to the sign-in page instead.
/// </summary>
public interface ISessionCheckedHub;

/// <summary>Checks the sign-in of each call to the queue hub and keeps its open connections known to <see cref="LiveSessions"/>.</summary>
public sealed class SessionHubFilter(LiveSessions live) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (invocationContext.Hub is ISessionCheckedHub && await live.CheckAsync(invocationContext.Context.User) is { } reason)
        {
            invocationContext.Context.Abort();
            throw new HubException($"Your sign-in has ended ({reason}): sign in again.");
        }

        return await next(invocationContext);
    }

    public Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        // Only the API's hub: a page's circuit (Blazor's own hub) is sent to the sign-in page instead, below.
        if (context.Hub is ISessionCheckedHub)
        {
            live.Add(context.Context);
        }

        return next(context);
    }

    public Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        live.Remove(context.Context);
        return next(context, exception);
    }
}

/// <summary>
/// A page's circuit checks its sign-in again every <see cref="LiveSessions.Interval"/> (ASP.NET Core's revalidating
/// provider); when it has ended the pages see an anonymous user and go to the sign-in page, which ends the circuit.
/// </summary>
public sealed class SessionAuthenticationStateProvider(ILoggerFactory loggers, LiveSessions live)
    : RevalidatingServerAuthenticationStateProvider(loggers)
{
    private static readonly Task<AuthenticationState> Anonymous = Task.FromResult(new AuthenticationState(new ClaimsPrincipal(new ClaimsIdentity())));

    protected override TimeSpan RevalidationInterval => LiveSessions.Interval;

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken) =>
        await live.CheckAsync(authenticationState.User) is null;

    /// <summary>Ends this circuit's sign-in now, as the revalidation would at its next look.</summary>
    public void End() => SetAuthenticationState(Anonymous);
}

/// <summary>
/// Checks the sign-in before each thing a circuit receives (a click, a form, a navigation), so a tab left open after
/// a sign-out elsewhere cannot act: its user becomes anonymous, whom the guards refuse, and its pages go to sign-in.
/// </summary>
public sealed class SessionCircuitHandler(LiveSessions live, UserContext user, AuthenticationStateProvider provider, ILogger<SessionCircuitHandler> log)
    : CircuitHandler
{
    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) =>
        async context =>
        {
            if (user.User.Identity?.IsAuthenticated == true && await live.CheckAsync(user.User) is { } reason)
            {
                log.LogInformation("Circuit of {User} signed out: {Reason}", user.Name, reason);
                user.User = new ClaimsPrincipal(new ClaimsIdentity());
                (provider as SessionAuthenticationStateProvider)?.End();
            }

            await next(context);
        };
}
