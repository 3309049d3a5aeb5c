namespace PiOps.Web.Components.Controls;

/// <summary>
/// A row of a live table, equal to another row by its key alone. MudTable keys its rows by item (<c>@key</c>), and
/// each snapshot brings new records, unequal as soon as any field differs; so every refresh (up to four a second)
/// replaced the rows' elements: an open tooltip closed, and a click whose press and release straddled a refresh did
/// nothing. Keyed by name, a row keeps its elements and only its content is updated.
/// </summary>
public sealed class LiveRow<T>(string key, T value) : IEquatable<LiveRow<T>>
{
    public string Key { get; } = key;

    public T Value { get; } = value;

    public bool Equals(LiveRow<T>? other) => other is not null && string.Equals(Key, other.Key, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as LiveRow<T>);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Key);
}

public static class LiveRow
{
    /// <summary>The items as rows keyed by <paramref name="key"/>, in their order.</summary>
    public static IReadOnlyList<LiveRow<T>> Of<T>(IEnumerable<T> items, Func<T, string> key) =>
        [.. items.Select(item => new LiveRow<T>(key(item), item))];
}
