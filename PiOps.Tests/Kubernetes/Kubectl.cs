using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace PiOps.Tests.Kubernetes;

/// <summary>
/// The real kubectl (on PATH), run against the API double with a kubeconfig this class writes in its own temporary
/// folder: KUBECONFIG is set for the child process only and the discovery cache lives in that folder, so neither the
/// test nor kubectl reads or writes the machine's ~/.kube. Or against a cluster an operator names by its kubeconfig.
/// </summary>
public sealed class Kubectl : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _dir;
    private readonly string _kubeconfig;

    private readonly bool _ownHome;

    public Kubectl(KubeApiDouble api)
    {
        _dir = Directory.CreateTempSubdirectory("piops-kubectl-").FullName;
        _kubeconfig = api.WriteKubeconfig(_dir);
        _ownHome = true;
    }

    /// <summary>
    /// kubectl on a cluster an operator gives (its kubeconfig). HOME stays the operator's, so credential plugins that
    /// read it (gcloud, aws, azure) still work; the discovery cache is this class's own.
    /// </summary>
    public Kubectl(string kubeconfig)
    {
        _dir = Directory.CreateTempSubdirectory("piops-kubectl-").FullName;
        _kubeconfig = kubeconfig;
    }

    public sealed record Result(int ExitCode, string Out, string Err)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Out}\nstderr:\n{Err}";
    }

    /// <summary>Runs kubectl to its end (bounded), and fails with its output when it does not exit 0.</summary>
    public async Task<string> RunAsync(params string[] args)
    {
        var result = await TryRunAsync(args);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"kubectl {string.Join(' ', args)} failed: {result}");
        }

        return result.Out;
    }

    public Task<Result> TryRunAsync(params string[] args) => RunToEndAsync(Launch(args), $"kubectl {string.Join(' ', args)}", Timeout);

    /// <summary>
    /// Runs a program that calls kubectl itself (an operator's script), with this kubeconfig and home and the given
    /// variables, to its end (bounded).
    /// </summary>
    public Task<Result> RunProgramAsync(string program, IReadOnlyDictionary<string, string> environment, TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        args.ToList().ForEach(info.ArgumentList.Add);
        info.Environment["KUBECONFIG"] = _kubeconfig;
        if (_ownHome)
        {
            info.Environment["HOME"] = _dir;
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return RunToEndAsync(Process.Start(info)!, $"{program} {string.Join(' ', args)}", timeout);
    }

    private static async Task<Result> RunToEndAsync(Process started, string what, TimeSpan timeout)
    {
        using var process = started;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{what} did not end within {timeout.TotalSeconds:F0} s; stderr so far is lost.");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>kubectl's own minor version (32 for v1.32.4), from kubectl version --client.</summary>
    public async Task<int> MinorVersionAsync()
    {
        var info = JsonNode.Parse(await RunAsync("version", "--client", "-o", "json"))!;
        return int.Parse(info["clientVersion"]!["minor"]!.GetValue<string>().TrimEnd('+'), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Starts a long-running kubectl (logs -f); its output lines arrive in <see cref="Streaming.Lines"/>.</summary>
    public Streaming Start(params string[] args) => new(Launch(args));

    private Process Launch(string[] args)
    {
        try
        {
            return Process.Start(StartInfo(args))!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("kubectl is not on PATH: these tests compare PiOps with Kubernetes' own client. test.sh installs Debian's kubernetes-client when run as root.", ex);
        }
    }

    private ProcessStartInfo StartInfo(string[] args)
    {
        var info = new ProcessStartInfo("kubectl")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.ArgumentList.Add("--cache-dir");
        info.ArgumentList.Add(Path.Combine(_dir, "cache"));
        info.Environment["KUBECONFIG"] = _kubeconfig;
        if (_ownHome)
        {
            info.Environment["HOME"] = _dir;
        }

        return info;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public sealed class Streaming : IDisposable
    {
        private readonly Process _process;
        private readonly List<string> _lines = [];
        private readonly StringBuilder _err = new();

        public Streaming(Process process)
        {
            _process = process;
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (_lines)
                    {
                        _lines.Add(e.Data);
                    }
                }
            };
            process.ErrorDataReceived += (_, e) =>
            {
                lock (_err)
                {
                    _err.AppendLine(e.Data);
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public string Err
        {
            get
            {
                lock (_err)
                {
                    return _err.ToString();
                }
            }
        }

        public bool HasExited => _process.HasExited;

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.Dispose();
        }
    }
}

/// <summary>
/// Compares two request bodies field by field: each leaf as a path and value, after what the Go client writes for
/// zero values (null, {}, []) is left out, as the API server decodes both the same.
/// </summary>
public static class RequestBodies
{
    public static SortedDictionary<string, string> Flatten(JsonNode? node, params string[] ignored)
    {
        var leaves = new SortedDictionary<string, string>(StringComparer.Ordinal);
        Walk(node, "", leaves);
        foreach (var path in leaves.Keys.Where(k => ignored.Any(i => k == i || k.StartsWith(i + ".", StringComparison.Ordinal) || k.StartsWith(i + "[", StringComparison.Ordinal))).ToList())
        {
            leaves.Remove(path);
        }

        return leaves;
    }

    /// <summary>Every path whose value differs, as "path: ours | kubectl's" ("-" where a side lacks it).</summary>
    public static List<string> Differences(JsonNode? ours, JsonNode? kubectls, params string[] ignored)
    {
        var a = Flatten(ours, ignored);
        var b = Flatten(kubectls, ignored);
        return a.Keys.Union(b.Keys).Order(StringComparer.Ordinal)
            .Where(k => a.GetValueOrDefault(k) != b.GetValueOrDefault(k))
            .Select(k => $"{k}: {a.GetValueOrDefault(k) ?? "-"} | {b.GetValueOrDefault(k) ?? "-"}")
            .ToList();
    }

    private static void Walk(JsonNode? node, string path, SortedDictionary<string, string> leaves)
    {
        switch (node)
        {
            case null:
                return;
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    Walk(value, path.Length == 0 ? key : $"{path}.{key}", leaves);
                }

                return;
            case JsonArray array:
                for (int i = 0; i < array.Count; i++)
                {
                    Walk(array[i], $"{path}[{i}]", leaves);
                }

                return;
            default:
                leaves[path] = node.ToJsonString();
                return;
        }
    }
}
