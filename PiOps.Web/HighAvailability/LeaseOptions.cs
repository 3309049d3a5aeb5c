namespace PiOps.Web.HighAvailability;

/// <summary>The leases of the dashboard's singleton duties (section "Leases"): docs/high-availability.md.</summary>
public sealed class LeaseOptions
{
    public const string Section = "Leases";

    /// <summary>
    /// How long a lease lasts without renewal: after its holder dies, another replica takes the duty over within this
    /// time (plus a round trip).
    /// </summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the holder renews, well within <see cref="Ttl"/>: two renewals may fail before it lapses.</summary>
    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(5);

    public IEnumerable<string> Validate()
    {
        if (Ttl < TimeSpan.FromSeconds(1) || Ttl > TimeSpan.FromMinutes(5))
        {
            yield return $"Leases:Ttl must be from 1 s to 5 minutes (got {Ttl}).";
        }

        if (RenewInterval < TimeSpan.FromMilliseconds(100) || RenewInterval * 3 > Ttl)
        {
            yield return $"Leases:RenewInterval must be at least 100 ms and at most a third of Leases:Ttl ({Ttl}), so a renewal " +
                         $"can fail twice before the lease lapses (got {RenewInterval}).";
        }
    }
}
