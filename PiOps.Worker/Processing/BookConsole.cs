namespace PiOps.Worker.Processing;

/// <summary>
/// The lines the book's worker prints (starting, got task: N, the value, no more work, got signal), each followed by
/// what we add (task id, attempt, duration), so `kubectl logs` reads as in the book. Standard output, one write a line.
/// </summary>
public sealed class BookConsole(TextWriter output)
{
    public static BookConsole Standard { get; } = new(CreateStdout());

    public void Line(string text)
    {
        lock (output)
        {
            output.WriteLine(text);
            output.Flush();
        }
    }

    private static TextWriter CreateStdout()
    {
        var writer = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
        return TextWriter.Synchronized(writer);
    }
}
