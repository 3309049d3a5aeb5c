using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Audit;
using PiOps.Web.Security;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Security;

/// <summary>
/// <c>POST /api/tasks</c> beyond its happy path: refused requests are audited with their reason, an Idempotency-Key
/// makes a retry return the first outcome, and a client that gives up does not leave a half-done enqueue.
/// </summary>
public sealed class EnqueueRequestFacts(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly string _queue = TestRedisServer.NewQueueName();
    private DashboardApp _app = default!;

    private QueueKeys Keys => new(_queue);

    public async Task InitializeAsync() => _app = await SignedInApp.StartAsync(server, _queue);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<HttpClient> OperatorAsync(TimeSpan? timeout = null)
    {
        var (token, _) = await _app.Services.GetRequiredService<ApiTokens>().CreateAsync("producer", Roles.Operator, "test");
        var client = _app.CreateClient();
        if (timeout is { } t)
        {
            client.Timeout = t;
        }

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private Task<IReadOnlyList<AuditEntry>> AuditAsync() => _app.Services.GetRequiredService<AuditLog>().ReadAsync(100);

    private static HttpRequestMessage Post(string json, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/tasks") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return request;
    }

    private static List<string> Ids(string body) =>
        JsonDocument.Parse(body).RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetString()!).ToList();

    [Theory]
    [InlineData("{\"iterations\": \"lots\"}", "iterations: Iterations must be a whole number from 0")]
    [InlineData("{\"iterations\": 10, \"count\": 0}", "count: Count must be a whole number from 1")]
    [InlineData("[1, 2]", "The body must be a JSON object")]
    [InlineData("{not json", "the body is not valid JSON")]
    public async Task RefusedRequest_LeavesARefusedAuditEntry_WithTheReason(string json, string reason)
    {
        using var client = await OperatorAsync();

        var response = await client.SendAsync(Post(json, null));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var entry = (await AuditAsync()).First();
        Assert.Equal(("token:producer", "enqueue", false, "api"), (entry.User, entry.Action, entry.Succeeded, entry.Via));
        Assert.StartsWith("refused: ", entry.Error);
        Assert.Contains(reason, entry.Error);
        Assert.Contains(json[..5], entry.Parameters);
        Assert.Equal(0, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Fact]
    public async Task Enqueue_AuditSaysHowManyAndWhichIds()
    {
        using var client = await OperatorAsync();

        var response = await client.SendAsync(Post("{\"iterations\": 10, \"count\": 3}", null));

        var ids = Ids(await response.Content.ReadAsStringAsync());
        var entry = (await AuditAsync()).First();
        Assert.True(entry.Succeeded);
        Assert.Contains($"enqueued 3, first id {ids[0]}, last id {ids[2]}", entry.Parameters);
    }

    [Fact]
    public async Task RetryWithTheSameIdempotencyKey_ReturnsTheFirstOutcome_AndEnqueuesNothingNew()
    {
        using var client = await OperatorAsync();
        string key = Guid.NewGuid().ToString();

        var first = await client.SendAsync(Post("{\"iterations\": 10, \"count\": 2500}", key));
        var retry = await client.SendAsync(Post("{\"iterations\": 10, \"count\": 2500}", key));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.True(retry.Headers.TryGetValues("Idempotent-Replayed", out var replayed) && replayed.Single() == "true");
        var ids = Ids(await first.Content.ReadAsStringAsync());
        Assert.Equal(2500, ids.Count);
        Assert.Equal(ids, Ids(await retry.Content.ReadAsStringAsync()));
        Assert.Equal(2500, await server.Db.ListLengthAsync(Keys.Queue));
        var entry = (await AuditAsync()).First();
        Assert.Contains("nothing enqueued: a retry with the Idempotency-Key", entry.Error);
    }

    [Fact]
    public async Task SameIdempotencyKey_ForADifferentRequest_Is422_AndEnqueuesNothing()
    {
        using var client = await OperatorAsync();
        string key = Guid.NewGuid().ToString();

        await client.SendAsync(Post("{\"iterations\": 10, \"count\": 2}", key));
        var other = await client.SendAsync(Post("{\"iterations\": 10, \"count\": 3}", key));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        Assert.Contains("used at", await other.Content.ReadAsStringAsync());
        Assert.Equal(2, await server.Db.ListLengthAsync(Keys.Queue));
    }

    [Fact]
    public async Task ClientGivesUpOnALargeEnqueue_ItStillCompletesWhole_AndTheRetryGetsItsIds()
    {
        const int count = 1_000_000;
        string key = Guid.NewGuid().ToString();
        string json = $"{{\"iterations\": 10, \"count\": {count}}}";
        using (var impatient = await OperatorAsync(TimeSpan.FromSeconds(0.4)))
        {
            await Assert.ThrowsAnyAsync<TaskCanceledException>(() => impatient.SendAsync(Post(json, key)));
        }

        using var client = await OperatorAsync(TimeSpan.FromMinutes(2));
        HttpResponseMessage? retry = null;
        // While the first request still runs the retry is told so (409); then it gets the first one's outcome.
        await Eventually.WaitAsync(async () =>
        {
            retry = await client.SendAsync(Post(json, key));
            return retry.StatusCode != HttpStatusCode.Conflict;
        }, TimeSpan.FromMinutes(2), "the first request to finish");

        Assert.Equal(HttpStatusCode.Created, retry!.StatusCode);
        var ids = Ids(await retry.Content.ReadAsStringAsync());
        Assert.Equal(count, ids.Count);
        Assert.Equal(count, ids.Distinct().Count());
        Assert.Equal(count, await server.Db.ListLengthAsync(Keys.Queue));
        var audit = await AuditAsync();
        var enqueued = Assert.Single(audit, e => e.Succeeded && e.Parameters.Contains("enqueued"));
        Assert.Contains($"enqueued {count:N0}, first id {ids[0]}, last id {ids[^1]}", enqueued.Parameters);
        Assert.DoesNotContain(audit, e => e.Error?.Contains("canceled", StringComparison.OrdinalIgnoreCase) == true);
    }

    [Fact]
    public async Task RedisStallsPartWay_TheAnswerAndTheAuditSayHowManyLandedAndWhich_AndARetryGetsTheSameAccount()
    {
        string key = Guid.NewGuid().ToString();
        string json = "{\"iterations\": 10, \"count\": 1000000}";
        using var client = await OperatorAsync(TimeSpan.FromMinutes(2));
        var sent = client.SendAsync(Post(json, key));
        await Eventually.WaitAsync(async () => await server.Db.ListLengthAsync(Keys.Queue) > 0, TimeSpan.FromSeconds(30), "the first batches to land");

        HttpResponseMessage response;
        await server.FreezeAsync();
        try
        {
            // The dashboard's commands time out after 5 s; the enqueue then stops and tells what it knows.
            response = await sent.WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            await server.ThawAsync();
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        // Written while Redis was frozen: the trail takes it once Redis answers.
        AuditEntry? entry = null;
        await Eventually.WaitAsync(async () => (entry = (await AuditAsync()).FirstOrDefault(e => e.Action == "enqueue")) is not null,
            TimeSpan.FromSeconds(30), "the enqueue's audit entry to reach Redis");
        Assert.False(entry!.Succeeded);
        var m = System.Text.RegularExpressions.Regex.Match(entry.Error!,
            @"^Redis failed part-way through the enqueue: ([\d,]+) of 1,000,000 task\(s\) were enqueued( \(first id b[0-9a-f]{32}-0, last id b[0-9a-f]{32}-\d+\))?(; ([\d,]+) more were sent but not confirmed, and may have landed if Redis answered late)?; the other ([\d,]+) were not enqueued \(Redis did not reply in time\)\.$");
        Assert.True(m.Success, entry.Error);
        Assert.Contains(entry.Error!, await response.Content.ReadAsStringAsync());
        long landed = long.Parse(m.Groups[1].Value.Replace(",", ""));
        long unconfirmed = m.Groups[4].Success ? long.Parse(m.Groups[4].Value.Replace(",", "")) : 0;
        Assert.True(landed + unconfirmed < 1_000_000, entry.Error);
        await Eventually.WaitAsync(async () => await server.Db.ListLengthAsync(Keys.Queue) >= landed, TimeSpan.FromSeconds(30), "the landed tasks");
        long length = await server.Db.ListLengthAsync(Keys.Queue);
        Assert.True(length >= landed && length <= landed + unconfirmed, $"{length} in the queue after: {entry.Error}");

        HttpResponseMessage? retry = null;
        // Until the dashboard has recorded the failure (Redis was frozen when it happened) a retry hears "still running".
        await Eventually.WaitAsync(async () =>
        {
            retry = await client.SendAsync(Post(json, key));
            return retry.StatusCode != HttpStatusCode.Conflict;
        }, TimeSpan.FromSeconds(30), "the failure to be recorded for the key");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, retry!.StatusCode);
        Assert.Contains("failed part-way", await retry.Content.ReadAsStringAsync());
        Assert.Equal(length, await server.Db.ListLengthAsync(Keys.Queue));
    }
}
