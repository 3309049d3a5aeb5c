using System.Net;
using CliWrap;
using CliWrap.Buffered;

namespace PiOps.Tests.Infrastructure;

/// <summary>
/// Another host for a test: a network namespace of its own joined to this one by a veth pair on a /30 in 10.213.0.0/16
/// that exists only while the test runs. <see cref="HostAddress"/> is this side's address (bind the server there),
/// <see cref="PeerAddress"/> the other host's; requests are sent from inside with curl. Needs root; removed on dispose.
/// </summary>
public sealed class NetworkNamespace : IAsyncDisposable
{
    private readonly string _hostLink;

    private NetworkNamespace(string name, string hostLink, string network, IPAddress host, IPAddress peer)
    {
        Network = network;
        Name = name;
        _hostLink = hostLink;
        HostAddress = host;
        PeerAddress = peer;
    }

    public string Name { get; }

    /// <summary>The pair's /30, e.g. 10.213.4.8/30.</summary>
    public string Network { get; }

    public IPAddress HostAddress { get; }

    public IPAddress PeerAddress { get; }

    public static async Task<NetworkNamespace> CreateAsync()
    {
        string id = Guid.NewGuid().ToString("N")[..8];
        int block = Random.Shared.Next(0, 256 * 64) * 4; // one of the /30s of 10.213.0.0/16
        var host = IPAddress.Parse($"10.213.{block / 256}.{block % 256 + 1}");
        var peer = IPAddress.Parse($"10.213.{block / 256}.{block % 256 + 2}");
        var ns = new NetworkNamespace("piops-" + id, "pih" + id, $"10.213.{block / 256}.{block % 256}/30", host, peer);
        try
        {
            await RunAsync("ip", "netns", "add", ns.Name);
            await RunAsync("ip", "link", "add", ns._hostLink, "type", "veth", "peer", "name", "pip" + id);
            await RunAsync("ip", "link", "set", "pip" + id, "netns", ns.Name);
            await RunAsync("ip", "addr", "add", host + "/30", "dev", ns._hostLink);
            await RunAsync("ip", "link", "set", ns._hostLink, "up");
            await RunAsync("ip", "netns", "exec", ns.Name, "ip", "addr", "add", peer + "/30", "dev", "pip" + id);
            await RunAsync("ip", "netns", "exec", ns.Name, "ip", "link", "set", "pip" + id, "up");
            await RunAsync("ip", "netns", "exec", ns.Name, "ip", "link", "set", "lo", "up");
            return ns;
        }
        catch
        {
            await ns.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Cuts the other host off for real: this side of the veth pair goes down, so its packets are dropped, not refused
    /// (no reset reaches either end, as when a node loses its network). <see cref="HealAsync"/> brings it back.
    /// </summary>
    public Task CutAsync() => RunAsync("ip", "link", "set", _hostLink, "down");

    public Task HealAsync() => RunAsync("ip", "link", "set", _hostLink, "up");

    /// <summary>The command line that runs <paramref name="file"/> on the other host.</summary>
    public IEnumerable<string> Exec(string file) => ["netns", "exec", Name, file];

    /// <summary>An HTTP request from the other host; the status code and the body.</summary>
    public async Task<(int Status, string Body)> SendAsync(string method, string url, string? jsonBody = null, params (string Name, string Value)[] headers)
    {
        var args = new List<string> { "netns", "exec", Name, "curl", "-sS", "--max-time", "30", "-X", method, "-o", "-", "-w", "\n%{http_code}" };
        foreach (var (n, v) in headers)
        {
            args.AddRange(["-H", $"{n}: {v}"]);
        }

        if (jsonBody is not null)
        {
            args.AddRange(["-H", "Content-Type: application/json", "--data-binary", jsonBody]);
        }

        args.Add(url);
        return await CurlAsync(args);
    }

    /// <summary>A page fetched and a form posted from the other host as a browser would, keeping cookies in <paramref name="cookieJar"/>.</summary>
    public Task<(int Status, string Body)> GetAsync(string url, string cookieJar) =>
        CurlAsync(["netns", "exec", Name, "curl", "-sS", "--max-time", "30", "-b", cookieJar, "-c", cookieJar, "-o", "-", "-w", "\n%{http_code}", url]);

    public Task<(int Status, string Body)> PostFormAsync(string url, string cookieJar, IEnumerable<(string Name, string Value)> fields,
        params (string Name, string Value)[] headers)
    {
        var args = new List<string> { "netns", "exec", Name, "curl", "-sS", "--max-time", "30", "-b", cookieJar, "-c", cookieJar, "-o", "-", "-w", "\n%{http_code}" };
        foreach (var (n, v) in headers)
        {
            args.AddRange(["-H", $"{n}: {v}"]);
        }

        foreach (var (n, v) in fields)
        {
            args.AddRange(["--data-urlencode", $"{n}={v}"]);
        }

        args.Add(url);
        return CurlAsync(args);
    }

    private static async Task<(int Status, string Body)> CurlAsync(List<string> args)
    {
        string output = await RunAsync("ip", [.. args]);
        int cut = output.LastIndexOf('\n');
        return (int.Parse(output[(cut + 1)..].Trim()), output[..cut]);
    }

    public async ValueTask DisposeAsync()
    {
        // Deleting the namespace deletes its end of the pair, and with it this end; the second is for a half-made pair.
        await RunAsync(false, "ip", "netns", "delete", Name);
        await RunAsync(false, "ip", "link", "delete", _hostLink);
    }

    private static Task<string> RunAsync(string file, params string[] args) => RunAsync(true, file, args);

    private static async Task<string> RunAsync(bool check, string file, params string[] args)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var run = await Cli.Wrap(file).WithArguments(args).WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(timeout.Token);
        if (check && run.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {run.ExitCode}: {run.StandardError}");
        }

        return run.StandardOutput;
    }
}
