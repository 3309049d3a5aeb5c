using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using StackExchange.Redis;

namespace PiOps.Web.Security;

/// <summary>
/// Data Protection's key ring, which signs and encrypts the sign-in cookie and the antiforgery tokens, kept in Redis
/// (<c>QUEUE:dataprotection</c>, ASP.NET Core's own <see cref="RedisXmlRepository"/>): every replica of the dashboard,
/// and a dashboard restarted in a new pod, read the same keys, so a cookie or a form made by one is accepted by the
/// others. Kept on the pod's disk, as by default, a restart signed everyone out and a second replica refused the
/// first's cookies.
/// While Redis is away the ring last read is used, and a key made meanwhile (a first start with Redis away) is kept
/// here and saved at the next read that reaches Redis: pages keep working and show the outage, not an error.
/// </summary>
public sealed class RedisKeyRing(Func<IDatabase> database, RedisKey key, ILogger<RedisKeyRing> log) : IXmlRepository
{
    private readonly RedisXmlRepository _redis = new(database, key);
    private readonly Lock _gate = new();
    private IReadOnlyCollection<XElement> _lastRead = [];
    private readonly List<XElement> _unsaved = [];

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        try
        {
            SaveUnsaved();
            var all = _redis.GetAllElements();
            lock (_gate)
            {
                _lastRead = all;
            }

            return all;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            lock (_gate)
            {
                log.LogWarning("Could not read the Data Protection key ring from Redis ({Message}): using the {Count} key(s) read last",
                    ex.Message, _lastRead.Count + _unsaved.Count);
                return [.. _lastRead, .. _unsaved];
            }
        }
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        try
        {
            _redis.StoreElement(element, friendlyName);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            lock (_gate)
            {
                _unsaved.Add(element);
            }

            log.LogWarning("Could not save a new Data Protection key in Redis ({Message}): kept in this process and saved when Redis answers; "
                + "until then other replicas do not accept this one's cookies", ex.Message);
        }
    }

    private void SaveUnsaved()
    {
        XElement[] pending;
        lock (_gate)
        {
            pending = [.. _unsaved];
        }

        foreach (var element in pending)
        {
            _redis.StoreElement(element, "");
            lock (_gate)
            {
                _unsaved.Remove(element);
            }

            log.LogInformation("Saved in Redis the Data Protection key made while Redis was away");
        }
    }
}
