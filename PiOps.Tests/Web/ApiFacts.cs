using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Web;

/// <summary>The HTTP API over real HTTP, against a real redis-server.</summary>
public sealed class ApiFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly string _queue = TestRedisServer.NewQueueName();
    private DashboardApp _app = default!;
    private HttpClient _http = default!;
    private QueueKeys Keys => new(_queue);

    public async Task InitializeAsync()
    {
        _app = await DashboardApp.StartAsync(server, _queue);
        _http = _app.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _app.DisposeAsync();
    }

    private Task<HttpResponseMessage> PostJson(string path, string json) =>
        _http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    [Fact]
    public async Task PostTasks_EnqueuesMany_AndReturnsIds()
    {
        var response = await PostJson("/api/tasks", """{"iterations": 5000000, "count": 3}""");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(3, body.GetProperty("count").GetInt32());
        Assert.Equal(3, body.GetProperty("ids").GetArrayLength());
        Assert.Equal(3, await server.Db.ListLengthAsync(Keys.Queue));
        string id = body.GetProperty("ids")[0].GetString()!;

        var status = await _http.GetFromJsonAsync<JsonElement>($"/api/tasks/{id}");
        Assert.Equal("queued", status.GetProperty("state").GetString());
    }

    [Fact]
    public async Task PostTasks_List_AndPlainFormat()
    {
        var response = await PostJson("/api/tasks", """{"tasks": [10, "20", 30], "format": "plain"}""");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(["10", "20", "30"], (await server.Db.ListRangeAsync(Keys.Queue)).Select(v => (string)v!));
    }

    [Theory]
    [InlineData("""{"iterations": -1}""", "iterations")]
    [InlineData("""{"iterations": "abc"}""", "iterations")]
    [InlineData("""{"iterations": 1.5}""", "iterations")]
    [InlineData("""{"iterations": 100000000001}""", "iterations")]
    [InlineData("""{"iterations": true}""", "iterations")]
    [InlineData("""{"count": 5}""", "iterations")]
    [InlineData("""{"iterations": 5, "count": 0}""", "count")]
    [InlineData("""{"iterations": 5, "count": 1000001}""", "count")]
    [InlineData("""{"iterations": 5, "format": "xml"}""", "format")]
    [InlineData("""{"tasks": [1, 2, -3]}""", "tasks[2]")]
    [InlineData("""{"tasks": []}""", "tasks")]
    [InlineData("""{"tasks": "1,2"}""", "tasks")]
    public async Task PostTasks_BadInput_Is400ProblemDetails_AndEnqueuesNothing(string json, string field)
    {
        var response = await PostJson("/api/tasks", json);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), await response.Content.ReadAsStringAsync());
        Assert.False(string.IsNullOrWhiteSpace(messages[0].GetString()));
        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("")]
    public async Task PostTasks_NotAnObject_Is400WithASentence(string body)
    {
        var response = await PostJson("/api/tasks", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Fact]
    public async Task PostTasks_ManyAtOnce_AreAllCreated()
    {
        // Each enqueue pokes the sampler; pokes arriving together used to overflow its semaphore and fail the request.
        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => PostJson("/api/tasks", """{"iterations": 10}""")));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        Assert.Equal(40, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Fact]
    public async Task GetTask_Unknown_Is404Problem()
    {
        var response = await _http.GetAsync("/api/tasks/t-nope");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("No task t-nope", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task GetQueue_ReportsDepthFromTheSharedSample()
    {
        await server.Db.ListRightPushAsync(Keys.Queue, ["1", "2"]);

        await Eventually.WaitAsync(async () =>
            (await _http.GetFromJsonAsync<JsonElement>("/api/queue")).GetProperty("depth").GetInt64() == 2,
            TimeSpan.FromSeconds(10), "depth 2 in /api/queue");
    }

    [Fact]
    public async Task DeadLetters_ListAndRetryAll()
    {
        var letter = new DeadLetter("7", "test", "t-x", 3, "w", DateTimeOffset.UtcNow);
        await server.Db.ListRightPushAsync(Keys.DeadLetters, [QueueJson.Serialize(letter), QueueJson.Serialize(letter with { Entry = "junk" })]);

        var page = await _http.GetFromJsonAsync<JsonElement>("/api/dead-letters");
        Assert.Equal(2, page.GetProperty("total").GetInt64());
        var retried = await (await _http.PostAsync("/api/dead-letters/retry", null)).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(1, retried.GetProperty("retried").GetInt32());
        Assert.Equal(1, retried.GetProperty("left").GetInt32());
        Assert.Equal(["7"], (await server.Db.ListRangeAsync(Keys.Queue)).Select(v => (string)v!));
    }

    [Fact]
    public async Task OpenApi_DescribesTheApi()
    {
        var doc = await _http.GetStringAsync("/openapi/v1.json");

        Assert.Contains("\"/api/tasks\"", doc);
        Assert.Contains("\"/api/queue\"", doc);
        Assert.Contains("\"/api/tasks/{id}\"", doc);
    }

    [Fact]
    public async Task Health_LiveAndReady()
    {
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task Metrics_InPrometheusFormat()
    {
        await server.Db.ListRightPushAsync(Keys.Queue, ["1", "2", "3"]);
        await Eventually.WaitAsync(async () => (await _http.GetStringAsync("/metrics")).Contains("piops_queue_depth 3"),
            TimeSpan.FromSeconds(10), "piops_queue_depth 3 in /metrics");

        string text = await _http.GetStringAsync("/metrics");
        foreach (var name in new[] { "piops_queue_in_flight", "piops_queue_dead_letters", "piops_tasks_done_total",
                     "piops_tasks_failed_total", "piops_task_duration_seconds", "piops_workers_alive" })
        {
            Assert.Contains(name, text);
        }
    }
}
