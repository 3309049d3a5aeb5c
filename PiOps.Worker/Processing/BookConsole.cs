using Microsoft.Extensions.Logging;

namespace PiOps.Worker.Processing;

/// <summary>
/// The lines the book's worker prints (starting, got task: N, the value, no more work, got signal), each followed by
/// what we add (task id, attempt, duration), so `kubectl logs` reads as in the book. Standard output, one write a line.
/// </summary>
public sealed class BookConsole(TextWriter output)
{
    public static BookConsole Standard { get; } = new(CreateStdout());

    /// <summary>
    /// Where each line is also logged when OTLP is on: as a log record of the current span, so a line seen in
    /// `kubectl logs` (it names its task id) leads to the trace and the trace to the lines. Null otherwise.
    /// </summary>
    public ILogger? Mirror { get; set; }

    // The line itself is the record's state: its body is the text, sent once (a "{Line}" template would send it twice,
    // as the formatted message and as an attribute, and build a parameter list per line).
    private static readonly Func<string, Exception?, string> AsIs = static (text, _) => text;

    public void Line(string text)
    {
        Mirror?.Log(LogLevel.Information, default, text, null, AsIs);
        lock (output)
        {
            output.WriteLine(text);
            output.Flush();
        }
    }

    /// <summary>A line that waits in the buffer for the next <see cref="Line"/> or <see cref="Flush"/>: for batches of trivial tasks.</summary>
    public void Buffered(string text)
    {
        Mirror?.Log(LogLevel.Information, default, text, null, AsIs);
        lock (output)
        {
            output.WriteLine(text);
        }
    }

    public void Flush()
    {
        lock (output)
        {
            output.Flush();
        }
    }

    // Every write takes the lock on the writer above, so the writer itself needs no lock of its own.
    private static TextWriter CreateStdout() => new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
}
