using System.Diagnostics;
using k8s;
using PiOps.Tests.Infrastructure;

namespace PiOps.Tests.Chart;

/// <summary>
/// Renders charts/piops as `helm template` would: with helm when it is on PATH, else with the offline helm-render from
/// tools/helm-render (built once from Debian's packages by its build.sh).
/// </summary>
public static class HelmChart
{
    private static readonly Lazy<string[]> Renderer = new(FindRenderer, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string RepositoryRoot => Repository.Root;

    public static string ChartDirectory => Path.Combine(RepositoryRoot, "charts", "piops");

    /// <summary>Renders with --set overrides; throws <see cref="ChartRenderException"/> with helm's message on failure.</summary>
    public static string Render(params string[] sets) => Render(sets, notes: false);

    /// <summary>Renders with a values file (for lists, which --set cannot give the offline renderer) and --set overrides.</summary>
    public static string RenderWithValues(string valuesYaml, params string[] sets)
    {
        string file = Path.Combine(Path.GetTempPath(), $"piops-values-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, valuesYaml);
        try
        {
            return Render(sets, notes: false, valuesFile: file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    public static string Render(IEnumerable<string> sets, bool notes, string? valuesFile = null)
    {
        var renderer = Renderer.Value;
        var psi = new ProcessStartInfo(renderer[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        bool helm = renderer[1] == "template";
        var args = new List<string>(renderer.Skip(1));
        if (helm)
        {
            args.AddRange(["piops", ChartDirectory]);
        }
        else
        {
            args.Add("piops");
        }

        args.AddRange(["--namespace", "ops"]);
        if (notes && !helm)
        {
            args.Add("--notes");
        }

        if (valuesFile is not null)
        {
            args.AddRange(["-f", valuesFile]);
        }

        foreach (var s in sets)
        {
            args.AddRange(["--set", s]);
        }

        if (!helm)
        {
            args.Add(ChartDirectory); // helm-render reads flags first, the chart last
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill();
            throw new TimeoutException("chart rendering took over 60 s");
        }

        return p.ExitCode == 0 ? stdout.Result : throw new ChartRenderException(stderr.Result.Trim());
    }

    /// <summary>Every rendered document as a KubernetesClient model, strictly: an unknown field fails.</summary>
    public static List<IKubernetesObject> Objects(string rendered)
    {
        var docs = rendered.Split(["\n---"], StringSplitOptions.RemoveEmptyEntries)
            .Where(d => d.Contains("kind:", StringComparison.Ordinal) && !d.Contains("apiVersion: keda.sh/", StringComparison.Ordinal)
                        && !d.Contains("apiVersion: monitoring.coreos.com/", StringComparison.Ordinal));
        return docs.SelectMany(d => KubernetesYaml.LoadAllFromString(d, null, strict: true)).Cast<IKubernetesObject>().ToList();
    }

    /// <summary>The rendered documents of another API than Kubernetes' own (KEDA, the Prometheus Operator), as YAML trees.</summary>
    public static List<YamlDotNet.RepresentationModel.YamlMappingNode> CustomObjects(string rendered, string apiVersionPrefix)
    {
        var found = new List<YamlDotNet.RepresentationModel.YamlMappingNode>();
        foreach (var doc in rendered.Split(["\n---"], StringSplitOptions.RemoveEmptyEntries).Where(d => d.Contains("apiVersion: " + apiVersionPrefix, StringComparison.Ordinal)))
        {
            var stream = new YamlDotNet.RepresentationModel.YamlStream();
            stream.Load(new StringReader(doc));
            found.AddRange(stream.Documents.Select(d => d.RootNode).OfType<YamlDotNet.RepresentationModel.YamlMappingNode>());
        }

        return found;
    }

    private static string[] FindRenderer()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            if (File.Exists(Path.Combine(dir, "helm")))
            {
                return [Path.Combine(dir, "helm"), "template"];
            }
        }

        string build = Path.Combine(RepositoryRoot, "tools", "helm-render", "build.sh");
        if (!File.Exists(build))
        {
            throw new InvalidOperationException($"Neither helm on PATH nor {build}: cannot render the chart");
        }

        var psi = new ProcessStartInfo("bash", [build]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        string bin = output.Trim().Split('\n').Last().Trim();
        if (p.ExitCode != 0 || !File.Exists(bin))
        {
            throw new InvalidOperationException($"building helm-render failed ({p.ExitCode}): {error}");
        }

        // helm-render takes the release name as --name: adapt to helm template's positional NAME.
        return [bin, "--name"];
    }

}

public sealed class ChartRenderException(string message) : Exception(message);
