using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PiOps.Web.Security;
using Xunit;

namespace PiOps.Tests.Security;

/// <summary>The safe default: only this machine is served until access is configured.</summary>
public class LoopbackOnlyFacts
{
    private static async Task<(int Status, string Body, bool Passed)> SendAsync(string remote, string path, bool allowRemote = false,
        string? adminPassword = null)
    {
        bool passed = false;
        var middleware = new LoopbackOnlyMiddleware(_ =>
        {
            passed = true;
            return Task.CompletedTask;
        }, Options.Create(new AccessOptions { AllowRemote = allowRemote }),
            Options.Create(new AuthOptions { AdminPassword = adminPassword }), NullLogger<LoopbackOnlyMiddleware>.Instance);
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        context.Connection.LocalIpAddress = IPAddress.Parse("10.1.2.3");
        context.Request.Path = path;
        context.Response.Body = new MemoryStream();

        await middleware.InvokeAsync(context);

        context.Response.Body.Position = 0;
        return (context.Response.StatusCode, await new StreamReader(context.Response.Body).ReadToEndAsync(), passed);
    }

    [Theory]
    [InlineData("203.0.113.7", "/")]
    [InlineData("10.1.2.4", "/api/tasks")]
    [InlineData("2001:db8::5", "/hubs/queue")]
    [InlineData("198.51.100.1", "/queue")]
    public async Task RemoteRequests_AreRefused_WithAPageThatSaysWhatToDo(string remote, string path)
    {
        var (status, body, passed) = await SendAsync(remote, path);

        Assert.Equal(403, status);
        Assert.False(passed);
        Assert.Contains("kubectl port-forward", body);
        Assert.Contains("Access__AllowRemote=true", body);
        Assert.Contains("Auth__AdminPassword", body);
    }

    [Fact]
    public async Task RemoteRequests_AreServed_OnceSignInIsConfigured_SignInDecides()
    {
        var (_, _, passed) = await SendAsync("203.0.113.7", "/", adminPassword: "correct horse battery");

        Assert.True(passed);
    }

    [Theory]
    [InlineData("127.0.0.1", "/")]
    [InlineData("127.0.0.2", "/api/tasks")]
    [InlineData("::1", "/queue")]
    [InlineData("10.1.2.3", "/")] // this machine's own address
    public async Task LocalRequests_AreServed(string remote, string path)
    {
        var (_, _, passed) = await SendAsync(remote, path);

        Assert.True(passed);
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    [InlineData("/metrics")]
    public async Task ProbesAndMetrics_StayReachable(string path)
    {
        Assert.True((await SendAsync("203.0.113.7", path)).Passed);
    }

    [Fact]
    public async Task AllowRemote_OpensAccess()
    {
        Assert.True((await SendAsync("203.0.113.7", "/", allowRemote: true)).Passed);
    }
}
