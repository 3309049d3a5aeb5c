using PiOps.Shared.Queue;
using Xunit;

namespace PiOps.Tests.Queue;

public class TaskEntryFacts
{
    private static readonly QueueOptions Options = new() { MaxIterations = 1_000_000_000 };

    [Theory]
    [InlineData("5000000", 5000000)]
    [InlineData(" 42 ", 42)]
    [InlineData("0", 0)]
    [InlineData("+7", 7)]
    [InlineData("1000000000", 1000000000)]
    public void Parse_AcceptsPlainIntegers_AsTheBookWritesThem(string raw, long expected)
    {
        var entry = TaskEntry.Parse(raw, Options);

        Assert.True(entry.IsValid, entry.Error);
        Assert.Equal(expected, entry.Task!.Iterations);
        Assert.Equal(EntryFormat.Plain, entry.Format);
        Assert.Equal(1, entry.Task.Attempt);
        Assert.StartsWith("t-", entry.Task.Id);
    }

    [Fact]
    public void Parse_ReadsEnvelope_WithIdAttemptAndTime()
    {
        var entry = TaskEntry.Parse("""{"id":"abc-1","iterations":123,"enqueuedAt":"2026-01-02T03:04:05Z","attempt":2}""", Options);

        Assert.True(entry.IsValid, entry.Error);
        Assert.Equal(new TaskEnvelope("abc-1", 123, new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), 2), entry.Task);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("hello", "not a whole number")]
    [InlineData("12abc", "not a whole number")]
    [InlineData("1.5", "not a whole number")]
    [InlineData("1e6", "not a whole number")]
    [InlineData("-5", "negative")]
    [InlineData("1000000001", "over the maximum")]
    [InlineData("99999999999999999999999999", "over the maximum")]
    [InlineData("٣٤", "not a whole number")] // Arabic-Indic digits: Python's int() takes them, we do not
    [InlineData("５", "not a whole number")] // full-width digit
    [InlineData("{", "malformed JSON")]
    [InlineData("{\"n\":5}", "no \"iterations\"")]
    [InlineData("{\"iterations\":\"abc\"}", "not a whole number")]
    [InlineData("{\"iterations\":-3}", "negative")]
    [InlineData("{\"iterations\":1.5}", "not a whole number")]
    [InlineData("{\"iterations\":[1]}", "must be a number")]
    [InlineData("{\"iterations\":5,\"attempt\":0}", "\"attempt\"")]
    [InlineData("{\"iterations\":5,\"id\":\"has space\"}", "\"id\"")]
    [InlineData("{\"iterations\":5,\"enqueuedAt\":\"yesterday\"}", "\"enqueuedAt\"")]
    public void Parse_ExplainsBadEntries(string raw, string reasonPart)
    {
        var entry = TaskEntry.Parse(raw, Options);

        Assert.False(entry.IsValid);
        Assert.Null(entry.Task);
        Assert.Contains(reasonPart, entry.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(raw, entry.Raw);
    }

    [Fact]
    public void Parse_RejectsEntriesOver64KiB_Unread()
    {
        string raw = new('7', 64 * 1024 + 1);
        var entry = TaskEntry.Parse(raw, Options);

        Assert.False(entry.IsValid);
        Assert.Contains("over the 65,536-byte limit", entry.Error);
    }
}
