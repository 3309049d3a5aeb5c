using System.Globalization;

namespace PiOps.Worker.Liveness;

/// <summary>
/// The book's liveness file: the Unix time, written while the worker is healthy, read by an exec probe.
/// Written by the main loop on every turn and by a running computation as it progresses, never from an error path,
/// so a hung worker lets it go stale.
/// </summary>
public sealed class LivenessFile(string path, TimeProvider time)
{
    private long _lastWrite = long.MinValue;

    public string Path { get; } = path;

    /// <summary>Writes the current Unix time. Failures are reported, never thrown: liveness must not crash the worker.</summary>
    public bool Touch()
    {
        try
        {
            string? dir = System.IO.Path.GetDirectoryName(Path);
            if (!string.IsNullOrEmpty(dir))
            {
                Directory.CreateDirectory(dir);
            }

            // Write then rename, so the probe never reads a half-written number.
            string tmp = Path + ".tmp";
            File.WriteAllText(tmp, time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
            File.Move(tmp, Path, overwrite: true);
            Interlocked.Exchange(ref _lastWrite, time.GetTimestamp());
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Writes only when the last write is older than <paramref name="interval"/>; cheap enough for a hot callback.</summary>
    public void TouchIfOlderThan(TimeSpan interval)
    {
        long last = Interlocked.Read(ref _lastWrite);
        if (last == long.MinValue || time.GetElapsedTime(last) >= interval)
        {
            Touch();
        }
    }

    /// <summary>
    /// The probe: 0 when the file holds a time at most <paramref name="maxAgeSeconds"/> old, 1 when older, 2 when the
    /// file cannot be read or holds no time.
    /// </summary>
    public static (int ExitCode, string Message) Check(string path, long maxAgeSeconds, TimeProvider time)
    {
        string text;
        try
        {
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (2, $"Failed: unable to read {path}: {ex.Message}");
        }

        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long written))
        {
            return (2, $"Failed: {path} does not hold a Unix time (got \"{(text.Length > 40 ? text[..40] : text)}\")");
        }

        long age = time.GetUtcNow().ToUnixTimeSeconds() - written;
        return age > maxAgeSeconds
            ? (1, $"Liveness failing, timestamp too old: {age} s > {maxAgeSeconds} s")
            : (0, $"alive: last written {age} s ago");
    }
}
