using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PiOps.Shared.Queue;

/// <summary>A queue entry read and checked: either a task to run or the reason it cannot be run.</summary>
public sealed record TaskEntry
{
    private TaskEntry(string raw, TaskEnvelope? task, string? error, EntryFormat format)
    {
        Raw = raw;
        Task = task;
        Error = error;
        Format = format;
    }

    /// <summary>The entry exactly as it sits in Redis; the in-flight list holds this string.</summary>
    public string Raw { get; }

    /// <summary>The task, when the entry is valid. Plain entries get a fresh id here, since they carry none.</summary>
    public TaskEnvelope? Task { get; }

    /// <summary>Why the entry cannot be run, as a sentence; null when it can.</summary>
    public string? Error { get; }

    public EntryFormat Format { get; }

    public bool IsValid => Error is null;

    /// <summary>Reads an entry in either format; never throws for bad input.</summary>
    public static TaskEntry Parse(string raw, QueueOptions options)
    {
        int bytes = Encoding.UTF8.GetByteCount(raw);
        if (bytes > options.MaxEntryBytes)
        {
            return Bad(raw, $"entry is {bytes:N0} bytes, over the {options.MaxEntryBytes:N0}-byte limit", EntryFormat.Plain);
        }

        var trimmed = raw.AsSpan().Trim();
        if (trimmed.Length > 0 && trimmed[0] == '{')
        {
            return ParseEnvelope(raw, options);
        }

        var (iterations, error) = ParseIterations(trimmed, options.MaxIterations);
        return error is null
            ? new TaskEntry(raw, new TaskEnvelope(TaskIds.New(), iterations, null, 1), null, EntryFormat.Plain)
            : Bad(raw, error, EntryFormat.Plain);
    }

    /// <summary>
    /// Checks an iteration count given as text: a whole number of ASCII digits from 0 to <paramref name="max"/>.
    /// The message says what is wrong in words an operator can act on.
    /// </summary>
    public static (long Iterations, string? Error) ParseIterations(ReadOnlySpan<char> text, long max)
    {
        text = text.Trim();
        if (text.IsEmpty)
        {
            return (0, "iterations are empty: expected a whole number");
        }

        bool negative = text[0] == '-';
        var digits = text[0] is '-' or '+' ? text[1..] : text;
        if (digits.IsEmpty || !AllAsciiDigits(digits))
        {
            string shown = text.Length > 40 ? string.Concat(text[..40], "…") : text.ToString();
            return (0, $"\"{shown}\" is not a whole number of iterations (digits 0-9 only)");
        }

        if (negative && digits.TrimStart('0').Length > 0)
        {
            return (0, $"iterations must not be negative (got {Shorten(text)})");
        }

        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n > max)
        {
            return (0, $"{Shorten(text)} iterations is over the maximum of {max.ToString("N0", CultureInfo.InvariantCulture)}");
        }

        return (n, null);
    }

    private static TaskEntry ParseEnvelope(string raw, QueueOptions options)
    {
        try
        {
            using var doc = JsonDocument.Parse(raw, new JsonDocumentOptions { MaxDepth = 8 });
            var root = doc.RootElement;
            if (!root.TryGetProperty("iterations", out var itEl))
            {
                return Bad(raw, "JSON envelope has no \"iterations\" field", EntryFormat.Envelope);
            }

            string? itError;
            long iterations;
            if (itEl.ValueKind == JsonValueKind.Number)
            {
                (iterations, itError) = ParseIterations(itEl.GetRawText(), options.MaxIterations);
            }
            else if (itEl.ValueKind == JsonValueKind.String)
            {
                (iterations, itError) = ParseIterations(itEl.GetString(), options.MaxIterations);
            }
            else
            {
                return Bad(raw, $"\"iterations\" must be a number, not {itEl.ValueKind.ToString().ToLowerInvariant()}", EntryFormat.Envelope);
            }

            if (itError is not null)
            {
                return Bad(raw, itError, EntryFormat.Envelope);
            }

            string id = TaskIds.New();
            if (root.TryGetProperty("id", out var idEl))
            {
                if (idEl.ValueKind != JsonValueKind.String || !TaskIds.IsValid(idEl.GetString()))
                {
                    return Bad(raw, "\"id\" must be a string of 1 to 100 letters, digits, '-', '_', '.' or ':'", EntryFormat.Envelope);
                }

                id = idEl.GetString()!;
            }

            int attempt = 1;
            if (root.TryGetProperty("attempt", out var atEl) && atEl.ValueKind != JsonValueKind.Null)
            {
                if (atEl.ValueKind != JsonValueKind.Number || !atEl.TryGetInt32(out attempt) || attempt < 1)
                {
                    return Bad(raw, "\"attempt\" must be a whole number from 1", EntryFormat.Envelope);
                }
            }

            DateTimeOffset? enqueuedAt = null;
            if (root.TryGetProperty("enqueuedAt", out var enEl) && enEl.ValueKind != JsonValueKind.Null)
            {
                if (enEl.ValueKind != JsonValueKind.String || !enEl.TryGetDateTimeOffset(out var at))
                {
                    return Bad(raw, "\"enqueuedAt\" must be an ISO 8601 time", EntryFormat.Envelope);
                }

                enqueuedAt = at;
            }

            // The trace context is an aid, never a reason to refuse a task: one that is not a short string is ignored.
            string? traceParent = root.TryGetProperty("traceparent", out var tpEl) && tpEl.ValueKind == JsonValueKind.String
                && tpEl.GetString() is { Length: <= 128 } tp ? tp : null;
            return new TaskEntry(raw, new TaskEnvelope(id, iterations, enqueuedAt, attempt, traceParent), null, EntryFormat.Envelope);
        }
        catch (JsonException ex)
        {
            return Bad(raw, $"malformed JSON envelope: {ex.Message}", EntryFormat.Envelope);
        }
    }

    private static TaskEntry Bad(string raw, string error, EntryFormat format) => new(raw, null, error, format);

    private static bool AllAsciiDigits(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static string Shorten(ReadOnlySpan<char> text) => text.Length > 40 ? string.Concat(text[..40], "…") : text.ToString();
}

/// <summary>Task ids: short, unique, safe in a Redis key and a URL.</summary>
public static class TaskIds
{
    // Time-ordered (UUIDv7), so ids sort roughly by creation.
    public static string New() => "t-" + Guid.CreateVersion7().ToString("N");

    /// <summary>A batch id; its tasks are named {batch}-{index}.</summary>
    public static string NewBatch() => "b" + Guid.CreateVersion7().ToString("N");

    /// <summary>The batch a producer-made id belongs to, e.g. b019ac5…-17 → b019ac5….</summary>
    public static bool TryGetBatch(string id, out string batchId)
    {
        int dash = id.LastIndexOf('-');
        batchId = dash > 0 ? id[..dash] : "";
        return dash == 33 && id[0] == 'b' && id.AsSpan(1, 32).ContainsAnyExcept("0123456789abcdef") is false
            && id.Length > dash + 1 && id.AsSpan(dash + 1).ContainsAnyExcept("0123456789") is false;
    }

    public static bool IsValid(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= 100 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');
}
