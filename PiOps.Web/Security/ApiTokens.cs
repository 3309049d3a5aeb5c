using System.Security.Cryptography;
using System.Text;
using PiOps.Shared.Queue;
using PiOps.Web.Redis;
using PiOps.Web.Utils;
using StackExchange.Redis;
using Microsoft.Extensions.Options;

namespace PiOps.Web.Security;

/// <summary>An API token as listed: never the secret itself, which is shown once when made.</summary>
public sealed record ApiTokenInfo(string Id, string Name, string Role, DateTimeOffset CreatedAt, string CreatedBy);

/// <summary>
/// API tokens for producers and scripts, in Redis under QUEUE:tokens: a hash from the token's SHA-256 to its name,
/// role and maker. A token is "piops_" and 32 random bytes; only its hash is stored, so a copy of Redis grants nothing.
/// </summary>
public sealed class ApiTokens(RedisConnection redis, IOptions<QueueOptions> queue, TimeProvider time)
{
    public const string Prefix = "piops_";

    private readonly RedisKey _key = new QueueKeys(queue.Value.QueueName).Tokens;

    public async Task<(string Token, ApiTokenInfo Info)> CreateAsync(string name, string role, string createdBy)
    {
        name = name.Trim();
        if (name.Length is 0 or > 100)
        {
            throw new ArgumentException("A token needs a name of 1 to 100 characters, saying who or what uses it.");
        }

        string parsedRole = Roles.Parse(role) ?? throw new ArgumentException($"\"{role}\" is not one of {string.Join(", ", Roles.All)}.");
        string token = Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        string id = Hash(token);
        var info = new ApiTokenInfo(id[..12], name, parsedRole, time.GetUtcNow(), createdBy);
        await redis.Multiplexer.GetDatabase().HashSetAsync(_key, id, StoredJson.Serialize(info));
        return (token, info);
    }

    public async Task<ApiTokenInfo?> FindAsync(string token)
    {
        if (!token.StartsWith(Prefix, StringComparison.Ordinal) || token.Length > 200)
        {
            return null;
        }

        var value = await redis.Multiplexer.GetDatabase().HashGetAsync(_key, Hash(token));
        return value.IsNullOrEmpty ? null : StoredJson.Deserialize<ApiTokenInfo>(value!);
    }

    public async Task<IReadOnlyList<ApiTokenInfo>> ListAsync() =>
        (await redis.Multiplexer.GetDatabase().HashValuesAsync(_key))
        .Select(v => StoredJson.Deserialize<ApiTokenInfo>(v!)!).OrderBy(t => t.CreatedAt).ToList();

    /// <summary>Revokes the token whose listed id is <paramref name="id"/>; false when there is none.</summary>
    public async Task<bool> RevokeAsync(string id)
    {
        var db = redis.Multiplexer.GetDatabase();
        foreach (var field in await db.HashKeysAsync(_key))
        {
            if (((string)field!).StartsWith(id, StringComparison.Ordinal) && id.Length == 12)
            {
                return await db.HashDeleteAsync(_key, field);
            }
        }

        return false;
    }

    /// <summary>Whether the token whose SHA-256 is <paramref name="hash"/> is still valid (an open hub stream asks again).</summary>
    public Task<bool> ExistsAsync(string hash) => redis.Multiplexer.GetDatabase().HashExistsAsync(_key, hash);

    internal static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
