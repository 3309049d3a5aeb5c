using PiOps.Web.Configuration;
using Xunit;

namespace PiOps.Tests.Observability;

public sealed class TraceLinkFacts
{
    [Fact]
    public void TraceUrl_PutsTheTraceIdInItsPlace_AndWithoutOneThereIsNoLink()
    {
        var jaeger = new DashboardOptions { TraceUrl = "http://jaeger:16686/trace/{traceId}" };
        Assert.Equal("http://jaeger:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736", jaeger.TraceLink("4bf92f3577b34da6a3ce929d0e0e4736"));
        Assert.Null(jaeger.TraceLink(null));
        Assert.Null(new DashboardOptions().TraceLink("4bf92f3577b34da6a3ce929d0e0e4736"));
        Assert.Empty(jaeger.Validate());
    }

    [Theory]
    [InlineData("http://jaeger:16686/trace/")]
    [InlineData("jaeger/trace/{traceId}")]
    [InlineData("javascript:alert(1)//{traceId}")]
    public void ATraceUrlWithoutThePlaceOrNotHttp_IsRefusedAtStart_WithAnExample(string url)
    {
        var error = Assert.Single(new DashboardOptions { TraceUrl = url }.Validate());
        Assert.Contains("{traceId}", error);
        Assert.Contains("http://jaeger:16686/trace/{traceId}", error);
    }
}
