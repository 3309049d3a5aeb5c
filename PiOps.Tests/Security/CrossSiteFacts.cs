using System.Net;
using System.Net.Sockets;
using System.Text;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Security;

/// <summary>
/// What a browser says about where a request comes from, and the Host it names, as real requests on loopback in the
/// default mode (no sign-in, this machine acts as Admin): the browser tests are in <see cref="CrossSiteBrowserFacts"/>.
/// </summary>
public sealed class CrossSiteFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly string _queue = TestRedisServer.NewQueueName();
    private DashboardApp _app = default!;
    private HttpClient _http = default!;

    private QueueKeys Keys => new(_queue);

    public async Task InitializeAsync()
    {
        _app = await DashboardApp.StartAsync(server, _queue);
        // From a second loopback address: still this machine for the loopback guard, so only the browser's headers decide.
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri(_app.BaseAddress), Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.DisposeAsync();
    }

    private Task<HttpResponseMessage> EnqueueAsync(string contentType = "application/json", params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/tasks")
        {
            Content = new StringContent("""{"iterations": 10, "count": 3}""", Encoding.UTF8, contentType),
        };
        foreach (var (n, v) in headers)
        {
            request.Headers.TryAddWithoutValidation(n, v);
        }

        return _http.SendAsync(request);
    }

    [Theory]
    [InlineData("Origin", "http://127.0.0.1:1")] // another port: another origin of the same site
    [InlineData("Origin", "https://evil.example")]
    [InlineData("Origin", "null")]
    [InlineData("Sec-Fetch-Site", "same-site")]
    [InlineData("Sec-Fetch-Site", "cross-site")]
    public async Task Enqueue_FromAPageOfAnotherOrigin_IsRefused_AndNothingIsEnqueued(string header, string value)
    {
        var response = await EnqueueAsync(headers: (header, value));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("another site", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task Enqueue_WithABodyAFormCouldSend_IsRefused_WithASentence(string contentType)
    {
        var response = await EnqueueAsync(contentType);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("Content-Type: application/json", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Fact]
    public async Task Enqueue_FromTheDashboardsOwnPage_OrAScript_IsServed()
    {
        var origin = new Uri(_app.BaseAddress).GetLeftPart(UriPartial.Authority);

        Assert.Equal(HttpStatusCode.Created, (await EnqueueAsync(headers: [("Origin", origin)])).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await EnqueueAsync(headers: ("Sec-Fetch-Site", "same-origin"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await EnqueueAsync()).StatusCode);
        Assert.Equal(9, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Fact]
    public async Task Hub_FromAPageOfAnotherOrigin_IsRefused()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/hubs/queue/negotiate?negotiateVersion=1");
        request.Headers.Add("Origin", "https://evil.example");

        var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Theory]
    [InlineData("rebound.example")] // a name of another site made to resolve to 127.0.0.1
    [InlineData("piops.internal")]
    public async Task DefaultMode_NamesOtherThanLocalhost_AreRefused(string host)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/queue");
        request.Headers.Host = $"{host}:{new Uri(_app.BaseAddress).Port}";

        var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("localhost", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("piops.localhost")]
    [InlineData("127.0.0.1")]
    [InlineData("[::1]")]
    public async Task DefaultMode_LocalhostNamesAndAddresses_AreServed(string host)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/queue");
        request.Headers.Host = $"{host}:{new Uri(_app.BaseAddress).Port}";

        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(request)).StatusCode);
    }
}
