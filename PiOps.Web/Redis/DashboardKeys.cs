using System.Net;
using System.Security.Cryptography;
using System.Text;
using PiOps.Shared.Queue;
using StackExchange.Redis;

namespace PiOps.Web.Redis;

/// <summary>
/// The keys dashboard replicas share to act as one: sign-in counts and the leases of singleton duties. Like every key,
/// they start with the queue's hash-tagged prefix (<see cref="QueueKeys.Prefix"/>), so two queues in one Redis never
/// share them and a cluster keeps them in the queue's slot (docs/queue-protocol.md lists them). Being short-lived, they
/// are not moved from the untagged layout of earlier versions.
/// </summary>
public sealed class DashboardKeys(string queueName)
{
    private readonly string _prefix = new QueueKeys(queueName).Prefix;

    /// <summary>
    /// A user name's failed sign-ins in a row, checks under way and lockout end. The name is hashed (upper case
    /// invariant, as names compare): what people type as a user name is sometimes a password.
    /// </summary>
    public RedisKey SignInUser(string userName) =>
        _prefix + ":signin:user:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(userName.ToUpperInvariant())));

    /// <summary>An address's sign-in attempts in the current minute.</summary>
    public RedisKey SignInAddress(IPAddress address) => _prefix + ":signin:address:" + address;

    /// <summary>The lease of one singleton duty: its value is the holding process's id.</summary>
    public RedisKey Lease(string duty) => _prefix + ":lease:" + duty;
}
