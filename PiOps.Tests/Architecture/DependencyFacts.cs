using System.Text.RegularExpressions;
using PiOps.Tests.Infrastructure;
using Xunit;

namespace PiOps.Tests.Architecture;

/// <summary>
/// Dependencies between PiOps.Web's folders run one way: each file uses only the folders docs/architecture.md allows
/// its folder ("Dependencies between folders"), by a using or by a qualified name.
/// </summary>
public sealed partial class DependencyFacts
{
    private static readonly string Web = Path.Combine(Repository.Root, "PiOps.Web");

    private static IReadOnlyList<string> Folders { get; } = Directory.GetDirectories(Web).Select(Path.GetFileName).OfType<string>()
        .Where(d => d is not ("bin" or "obj" or "wwwroot" or "Properties")).Order(StringComparer.Ordinal).ToList();

    /// <summary>The table: folder → the folders it may use; null for the composition root, which may use every one.</summary>
    private static Dictionary<string, HashSet<string>?> Allowed()
    {
        string doc = File.ReadAllText(Path.Combine(Repository.Root, "docs", "architecture.md"));
        int start = doc.IndexOf("## Dependencies between folders", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/architecture.md has no \"Dependencies between folders\" section");
        var rows = new Dictionary<string, HashSet<string>?>(StringComparer.Ordinal);
        foreach (Match row in TableRow().Matches(doc[start..doc.IndexOf("\n## ", start + 1, StringComparison.Ordinal)]))
        {
            string uses = row.Groups["uses"].Value.Trim();
            rows[row.Groups["folder"].Value] = uses.StartsWith("every folder", StringComparison.Ordinal)
                ? null
                : uses.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        }

        return rows;
    }

    /// <summary>Every folder each file of <paramref name="folder"/> uses, with the file that uses it.</summary>
    private static IEnumerable<(string Used, string File)> Uses(string folder)
    {
        var reference = new Regex(@"(?:using\s+(?:static\s+)?PiOps\.Web\.(?<f>\w+)|PiOps\.Web\.(?<f>\w+)\.|(?<![\w.])(?<f>"
            + string.Join('|', Folders) + @")\.[A-Z])");
        foreach (string file in Directory.EnumerateFiles(Path.Combine(Web, folder), "*.*", SearchOption.AllDirectories)
                     .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".razor", StringComparison.Ordinal)))
        {
            // Comments (doc comments' crefs included) name what they explain, which is no dependency.
            string code = LineComment().Replace(File.ReadAllText(file), "");
            foreach (Match m in reference.Matches(code))
            {
                string used = m.Groups["f"].Value;
                if (used != folder && Folders.Contains(used))
                {
                    yield return (used, Path.GetRelativePath(Web, file));
                }
            }
        }
    }

    [Fact]
    public void EveryFolder_IsInTheTable()
    {
        var allowed = Allowed();

        Assert.Empty(Folders.Except(allowed.Keys));
        Assert.Empty(allowed.Keys.Except(Folders));
    }

    [Fact]
    public void EveryFile_UsesOnlyTheFoldersItsFolderMayUse()
    {
        var allowed = Allowed();

        var breaches = Folders.Where(f => allowed.GetValueOrDefault(f) is not null)
            .SelectMany(f => Uses(f).Where(u => !allowed[f]!.Contains(u.Used)).Select(u => $"{u.File} uses {u.Used}"))
            .Distinct().Order(StringComparer.Ordinal).ToList();

        Assert.True(breaches.Count == 0, "Not in docs/architecture.md's table:\n" + string.Join("\n", breaches));
    }

    [Fact]
    public void TheTable_HasNoCycle()
    {
        var allowed = Allowed();
        var state = new Dictionary<string, int>(StringComparer.Ordinal);

        bool Cyclic(string folder)
        {
            if (state.GetValueOrDefault(folder) is var s && s != 0)
            {
                return s == 1;
            }

            state[folder] = 1;
            bool cyclic = (allowed.GetValueOrDefault(folder) ?? []).Any(Cyclic);
            state[folder] = 2;
            return cyclic;
        }

        Assert.DoesNotContain(allowed.Keys.Where(k => allowed[k] is not null), Cyclic);
    }

    [GeneratedRegex(@"^\| `(?<folder>\w+)` \|(?<uses>[^|]*)\|\s*$", RegexOptions.Multiline)]
    private static partial Regex TableRow();

    [GeneratedRegex(@"//.*")]
    private static partial Regex LineComment();
}
