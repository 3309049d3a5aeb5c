using System.IO.Pipelines;
using PiOps.Worker.Processing;
using Xunit;

namespace PiOps.Tests.Worker;

/// <summary>Which errors the worker waits out as an outage, and which it takes for a bug.</summary>
public sealed class RedisFaultsFacts
{
    [Fact]
    public void AWriteToAPipeStackExchangeRedisCompleted_IsAnOutage_AnyOtherInvalidOperationIsNot()
    {
        // The exception a real pipe throws once its writer is completed, as StackExchange.Redis' connection meets it
        // when Redis goes away mid-write; its stack only names the pipe here, so the connection's frame is what decides.
        var pipe = new Pipe();
        pipe.Writer.Complete();
        var fromPipe = Assert.Throws<InvalidOperationException>(() => pipe.Writer.GetSpan());
        Assert.Contains("Writing is not allowed after writer was completed", fromPipe.Message);
        Assert.False(RedisFaults.IsTransient(fromPipe));
        Assert.False(RedisFaults.IsTransient(new InvalidOperationException("a bug of ours")));
    }
}
