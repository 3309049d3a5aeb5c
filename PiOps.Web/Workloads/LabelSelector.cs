using System.Text.RegularExpressions;
using k8s.Models;

namespace PiOps.Web.Workloads;

/// <summary>
/// A label selector as kubectl's <c>-l</c> takes it: comma-separated requirements, each <c>key=value</c>,
/// <c>key==value</c>, <c>key!=value</c>, <c>key in (a,b)</c>, <c>key notin (a,b)</c>, <c>key</c> (exists) or
/// <c>!key</c> (does not exist). Every requirement must hold. Keys and values are checked as the API server checks them.
/// </summary>
public sealed partial class LabelSelector
{
    private readonly IReadOnlyList<Requirement> _requirements;

    private LabelSelector(string text, IReadOnlyList<Requirement> requirements)
    {
        Text = text;
        _requirements = requirements;
    }

    /// <summary>The selector as written (trimmed), e.g. "pod=pi,job-name notin (a,b)".</summary>
    public string Text { get; }

    public bool Matches(IReadOnlyDictionary<string, string> labels) => _requirements.All(r => r.Matches(labels));

    public override string ToString() => Text;

    /// <summary>
    /// The selector of an object's spec (matchLabels and matchExpressions) as the API applies it: the one matcher for
    /// kubectl's -l and for a Deployment's selector. Null when it selects nothing (none given, or empty).
    /// </summary>
    public static LabelSelector? From(V1LabelSelector? selector) => selector is null ? null : TryParse(Print(selector), out _);

    /// <summary>A spec's selector in kubectl's -l syntax, as apimachinery's LabelSelectorAsSelector prints it.</summary>
    public static string Print(V1LabelSelector selector)
    {
        var parts = (selector.MatchLabels ?? new Dictionary<string, string>()).Select(l => $"{l.Key}={l.Value}").ToList();
        foreach (var e in selector.MatchExpressions ?? [])
        {
            parts.Add(e.OperatorProperty switch
            {
                "In" => $"{e.Key} in ({string.Join(",", e.Values ?? [])})",
                "NotIn" => $"{e.Key} notin ({string.Join(",", e.Values ?? [])})",
                "Exists" => e.Key,
                _ => "!" + e.Key,
            });
        }

        return string.Join(",", parts);
    }

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says what is wrong, as a sentence.</summary>
    public static LabelSelector? TryParse(string? text, out string? error)
    {
        text = (text ?? "").Trim();
        error = null;
        if (text.Length == 0)
        {
            error = "A label selector needs at least one requirement, e.g. pod=pi or job-name in (a,b).";
            return null;
        }

        if (text.Length > 1000)
        {
            error = $"The label selector is {text.Length:N0} characters long; at most 1,000 are accepted.";
            return null;
        }

        var requirements = new List<Requirement>();
        foreach (var part in SplitRequirements(text))
        {
            var requirement = ParseRequirement(part.Trim(), out error);
            if (requirement is null)
            {
                return null;
            }

            requirements.Add(requirement);
        }

        return new LabelSelector(text, requirements);
    }

    // Commas separate requirements, except inside the parentheses of in / notin.
    private static IEnumerable<string> SplitRequirements(string text)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            depth += text[i] switch { '(' => 1, ')' => -1, _ => 0 };
            if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }

        yield return text[start..];
    }

    private static Requirement? ParseRequirement(string part, out string? error)
    {
        error = null;
        if (part.Length == 0)
        {
            error = "The label selector has an empty requirement (two commas in a row, or one at an end).";
            return null;
        }

        var set = SetRequirement().Match(part);
        if (set.Success)
        {
            string key = set.Groups["key"].Value;
            var values = set.Groups["values"].Value.Split(',').Select(v => v.Trim()).ToList();
            if (!IsKey(key, out error) || !AreValues(values, part, out error))
            {
                return null;
            }

            bool notIn = set.Groups["op"].Value == "notin";
            return new Requirement(key, notIn ? Op.NotIn : Op.In, values.ToHashSet(StringComparer.Ordinal));
        }

        var eq = Equality().Match(part);
        if (eq.Success)
        {
            string key = eq.Groups["key"].Value.Trim();
            string value = eq.Groups["value"].Value.Trim();
            if (!IsKey(key, out error) || !AreValues([value], part, out error))
            {
                return null;
            }

            return new Requirement(key, eq.Groups["op"].Value == "!=" ? Op.NotIn : Op.In, new HashSet<string>(StringComparer.Ordinal) { value });
        }

        bool not = part.StartsWith('!');
        string name = not ? part[1..].Trim() : part;
        if (name.Any(c => c is '=' or '(' or ')' or ' ' or '!'))
        {
            error = $"\"{Short(part)}\" is not a label requirement: write key=value, key!=value, key in (a,b), key notin (a,b), key or !key.";
            return null;
        }

        return IsKey(name, out error) ? new Requirement(name, not ? Op.DoesNotExist : Op.Exists, new HashSet<string>()) : null;
    }

    private static bool IsKey(string key, out string? error)
    {
        error = null;
        var parts = key.Split('/');
        bool ok = parts.Length switch
        {
            1 => IsName(parts[0]),
            2 => parts[0].Length is > 0 and <= 253 && Prefix().IsMatch(parts[0]) && IsName(parts[1]),
            _ => false,
        };
        if (!ok)
        {
            error = $"\"{Short(key)}\" is not a valid label key: a name of up to 63 letters, digits, '-', '_' or '.', starting and " +
                    "ending with a letter or digit, optionally after a DNS prefix and '/' (e.g. batch.kubernetes.io/job-name).";
        }

        return ok;
    }

    private static bool IsName(string name) => name.Length is > 0 and <= 63 && Name().IsMatch(name);

    private static bool AreValues(IReadOnlyList<string> values, string part, out string? error)
    {
        error = null;
        var bad = values.FirstOrDefault(v => v.Length > 63 || (v.Length > 0 && !Name().IsMatch(v)));
        if (bad is not null)
        {
            error = $"\"{Short(bad)}\" in \"{Short(part)}\" is not a valid label value: up to 63 letters, digits, '-', '_' or '.', " +
                    "starting and ending with a letter or digit.";
            return false;
        }

        return true;
    }

    private static string Short(string s) => s.Length <= 60 ? s : s[..57] + "...";

    private enum Op
    {
        In,
        NotIn,
        Exists,
        DoesNotExist,
    }

    private sealed record Requirement(string Key, Op Op, IReadOnlySet<string> Values)
    {
        public bool Matches(IReadOnlyDictionary<string, string> labels)
        {
            bool has = labels.TryGetValue(Key, out var value);
            return Op switch
            {
                Op.In => has && Values.Contains(value!),
                // As in Kubernetes: "key!=value" and "key notin (...)" also match objects without the key.
                Op.NotIn => !has || !Values.Contains(value!),
                Op.Exists => has,
                _ => !has,
            };
        }
    }

    [GeneratedRegex(@"^(?<key>[^\s=!(),]+)\s+(?<op>in|notin)\s*\((?<values>[^()]*)\)$")]
    private static partial Regex SetRequirement();

    [GeneratedRegex(@"^(?<key>[^=!(),]+?)\s*(?<op>==|!=|=)\s*(?<value>[^=!(),]*)$")]
    private static partial Regex Equality();

    [GeneratedRegex(@"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")]
    private static partial Regex Name();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Prefix();
}
