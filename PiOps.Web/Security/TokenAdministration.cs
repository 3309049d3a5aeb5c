using PiOps.Web.Audit;

namespace PiOps.Web.Security;

/// <summary>API tokens as the Admin page manages them: only an Admin may list, make or revoke one, and each change is audited.</summary>
public sealed class TokenAdministration(ApiTokens tokens, UserContext user, AuditLog audit, TimeProvider time)
{
    public async Task<IReadOnlyList<ApiTokenInfo>> ListAsync()
    {
        await RequireAdminAsync("list api tokens", "");
        return await tokens.ListAsync();
    }

    /// <summary>Makes a token; the secret is returned this once and never stored.</summary>
    public async Task<(string Token, ApiTokenInfo Info)> CreateAsync(string name, string role)
    {
        await RequireAdminAsync("create api token", name);
        try
        {
            var created = await tokens.CreateAsync(name, role, user.Name);
            await WriteAsync("create api token", created.Info.Name, $"role={created.Info.Role} id={created.Info.Id}", true, null);
            return created;
        }
        catch (ArgumentException ex)
        {
            await WriteAsync("create api token", name, $"role={role}", false, ex.Message);
            throw new TokenActionException(ex.Message);
        }
    }

    public async Task RevokeAsync(ApiTokenInfo token)
    {
        await RequireAdminAsync("revoke api token", token.Name);
        bool revoked = await tokens.RevokeAsync(token.Id);
        await WriteAsync("revoke api token", token.Name, $"id={token.Id}", revoked, revoked ? null : "no such token");
        if (!revoked)
        {
            throw new TokenActionException($"There is no token {token.Name} ({token.Id}): it was revoked already.");
        }
    }

    private async Task RequireAdminAsync(string action, string target)
    {
        if (!user.IsAdmin)
        {
            await WriteAsync(action, target, "", false, "refused: " + user.Role);
            throw new TokenActionException($"You are signed in as {user.Name} ({user.Role}): only an Admin may manage API tokens.");
        }
    }

    private Task WriteAsync(string action, string target, string parameters, bool ok, string? error) =>
        audit.WriteAsync(user.Audit(time.GetUtcNow(), action, target, parameters, ok, error));
}

public sealed class TokenActionException(string message) : Exception(message);
