using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PiOps.Web;
using PiOps.Shared.Queue;
using PiOps.Tests.Infrastructure;
using PiOps.Web.Queue;
using PiOps.Web.Workloads;
using StackExchange.Redis;
using Xunit;
using RedisServer = PiOps.Tests.Infrastructure.RedisServer;

namespace PiOps.Tests.Resilience;

/// <summary>
/// A corpus of bad input at every door: the HTTP API, the enqueue form's rules, raw queue entries for a real worker,
/// cron schedules and names. Each gets a clear sentence naming what is wrong, and nothing is changed or lost.
/// Cases are named, since some inputs (a megabyte) would make poor test names.
/// </summary>
public sealed class BadInputFacts
{
    private static readonly string Digits10k = new('7', 10_000);
    private static readonly string MiB = new('9', 1 << 20);

    // ---- The HTTP API: 400 problem details, the field named, nothing enqueued ----

    private static readonly Dictionary<string, (string Body, string? Field, string Says)> Api = new()
    {
        ["arabic-indic digits"] = ("""{"iterations": "٣٤"}""", "iterations", "digits 0-9 only"),
        ["fullwidth digits"] = ("""{"iterations": "１２３"}""", "iterations", "digits 0-9 only"),
        ["exponent"] = ("""{"iterations": 1e6}""", "iterations", "digits 0-9 only"),
        ["hexadecimal"] = ("""{"iterations": "0x10"}""", "iterations", "digits 0-9 only"),
        ["digits with a space"] = ("""{"iterations": "5 000"}""", "iterations", "digits 0-9 only"),
        ["two signs"] = ("""{"iterations": "+-5"}""", "iterations", "digits 0-9 only"),
        ["negative string"] = ("""{"iterations": "-5"}""", "iterations", "must not be negative"),
        ["beyond a long"] = ("""{"iterations": 99999999999999999999999}""", "iterations", "over the maximum"),
        ["ten thousand digits"] = ($$"""{"iterations": "{{Digits10k}}"}""", "iterations", "over the maximum"),
        ["empty string"] = ("""{"iterations": ""}""", "iterations", "empty"),
        ["blank string"] = ("""{"iterations": "   "}""", "iterations", "empty"),
        ["null"] = ("""{"iterations": null}""", "iterations", "not null"),
        ["object"] = ("""{"iterations": {"n": 5}}""", "iterations", "not object"),
        ["array"] = ("""{"iterations": [5]}""", "iterations", "not array"),
        ["wrong case field"] = ("""{"ITERATIONS": 5}""", "iterations", "required"),
        ["count decimal"] = ("""{"iterations": 5, "count": "1.0"}""", "count", "whole number from 1"),
        ["count negative"] = ("""{"iterations": 5, "count": -1}""", "count", "whole number from 1"),
        ["count word"] = ("""{"iterations": 5, "count": "ten"}""", "count", "whole number from 1"),
        ["count null"] = ("""{"iterations": 5, "count": null}""", "count", "whole number from 1"),
        ["format number"] = ("""{"iterations": 5, "format": 1}""", "format", "\"envelope\" or \"plain\""),
        ["format digit string"] = ("""{"iterations": 5, "format": "1"}""", "format", "\"envelope\" or \"plain\""),
        ["format empty"] = ("""{"iterations": 5, "format": ""}""", "format", "\"envelope\" or \"plain\""),
        ["tasks with null"] = ("""{"tasks": [1, null]}""", "tasks[1]", "not null"),
        ["tasks with unicode digit"] = ("""{"tasks": [1, "٣"]}""", "tasks[1]", "digits 0-9 only"),
        ["tasks object"] = ("""{"tasks": {"a": 1}}""", "tasks", "array"),
        // The app under test allows 100,000 tasks a request (Dashboard:MaxBatch), which fits the API's 1 MiB body limit.
        ["tasks over the batch limit"] = ("{\"tasks\": [" + string.Join(",", Enumerable.Repeat("1", 100_001)) + "]}", "tasks", "from 1 to 100,000"),
        ["nesting too deep"] = ("""{"iterations": [[[[[[[[[[1]]]]]]]]]]}""", null, "not valid JSON"),
        ["body null"] = ("null", null, "JSON object"),
        ["body string"] = ("\"5\"", null, "JSON object"),
        ["body truncated"] = ("""{"iterations": 5""", null, "not valid JSON"),
    };

    public static TheoryData<string> ApiCases => [.. Api.Keys];

    public sealed class ApiDoor(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
    {
        private readonly string _queue = TestRedisServer.NewQueueName();
        private DashboardApp _app = default!;

        public async Task InitializeAsync() =>
            _app = await DashboardApp.StartAsync(server, _queue, new Dictionary<string, string?> { ["Dashboard:MaxBatch"] = "100000" });

        public async Task DisposeAsync() => await _app.DisposeAsync();

        [Theory]
        [MemberData(nameof(ApiCases), MemberType = typeof(BadInputFacts))]
        public async Task BadRequest_Is400_WithASentence_AndEnqueuesNothing(string name)
        {
            var (body, field, says) = Api[name];
            using var http = _app.CreateClient();

            var response = await http.PostAsync("/api/tasks", new StringContent(body, Encoding.UTF8, "application/json"));

            string text = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonDocument.Parse(text).RootElement;
            string message = field is null
                ? problem.GetProperty("detail").GetString()!
                : problem.GetProperty("errors").TryGetProperty(field, out var m) ? m[0].GetString()! : $"no error for {field}: {text}";
            Assert.Contains(says, message, StringComparison.OrdinalIgnoreCase);
            Assert.True(message.Length < 400, $"a sentence, not an echo of the input: {message.Length} characters");
            var keys = new QueueKeys(_queue);
            Assert.Equal(0, await server.Db.ListLengthAsync(keys.Queue));
            Assert.False(await server.Db.KeyExistsAsync(keys.Stats));
        }
    }

    // ---- The enqueue form's rules (the page and the API share them) ----

    [Theory]
    [InlineData("", null, "iterations", "empty")]
    [InlineData("abc", null, "iterations", "digits 0-9 only")]
    [InlineData("٣٤", null, "iterations", "digits 0-9 only")]
    [InlineData("１２", null, "iterations", "digits 0-9 only")]
    [InlineData("-1", null, "iterations", "must not be negative")]
    [InlineData("1.5", null, "iterations", "digits 0-9 only")]
    [InlineData("1e9", null, "iterations", "digits 0-9 only")]
    [InlineData("100000000001", null, "iterations", "over the maximum")]
    [InlineData("5", "0", "count", "from 1 to 1,000,000")]
    [InlineData("5", "-3", "count", "from 1 to 1,000,000")]
    [InlineData("5", "many", "count", "from 1 to 1,000,000")]
    [InlineData("5", "1000001", "count", "from 1 to 1,000,000")]
    [InlineData("5", "٣", "count", "from 1 to 1,000,000")]
    public void EnqueueForm_BadFields_AreNamedWithASentence(string iterations, string? count, string field, string says)
    {
        var errors = EnqueueValidation.Validate(iterations, count, 100_000_000_000, 1_000_000);

        Assert.Single(errors);
        Assert.Contains(says, Assert.Single(errors[field]));
    }

    [Fact]
    public void EnqueueForm_VeryLongInput_IsShortenedInTheMessage()
    {
        var errors = EnqueueValidation.Validate(new string('x', 100_000), null, 100_000_000_000, 1_000_000);

        Assert.True(errors["iterations"][0].Length < 300, errors["iterations"][0]);
    }

    // ---- Raw queue entries pushed straight onto the list, for a real worker ----

    private static readonly Dictionary<string, (string Entry, string Says)> Raw = new()
    {
        ["word"] = ("garbage", "not a whole number"),
        ["empty"] = ("", "empty"),
        ["blank"] = ("   ", "empty"),
        ["negative"] = ("-5", "must not be negative"),
        ["decimal"] = ("1.5", "digits 0-9 only"),
        ["exponent"] = ("1e6", "digits 0-9 only"),
        ["arabic-indic digits"] = ("٣٤", "digits 0-9 only"),
        ["fullwidth digits"] = ("１２３", "digits 0-9 only"),
        ["hexadecimal"] = ("0x1F", "digits 0-9 only"),
        ["NUL inside"] = ("5\u00005", "digits 0-9 only"),
        ["byte order mark"] = ("\uFEFF5", "digits 0-9 only"),
        ["beyond a long"] = ("99999999999999999999", "over the maximum"),
        ["over the maximum"] = ("200000000000", "over the maximum"),
        ["JSON array"] = ("[5]", "not a whole number"),
        ["JSON null"] = ("null", "not a whole number"),
        ["broken JSON"] = ("{not json", "malformed JSON"),
        ["truncated JSON"] = ("""{"iterations":5""", "malformed JSON"),
        ["nesting too deep"] = ("{\"a\":" + string.Concat(Enumerable.Repeat("{\"a\":", 20)) + "1" + new string('}', 21), "malformed JSON"),
        ["no iterations"] = ("""{"n":5}""", "no \"iterations\""),
        ["iterations array"] = ("""{"iterations":[1]}""", "not array"),
        ["iterations object"] = ("""{"iterations":{}}""", "not object"),
        ["iterations null"] = ("""{"iterations":null}""", "not null"),
        ["iterations true"] = ("""{"iterations":true}""", "not true"),
        ["iterations negative"] = ("""{"iterations":-3}""", "must not be negative"),
        ["iterations unicode"] = ("""{"iterations":"٣"}""", "digits 0-9 only"),
        ["bad id"] = ("""{"iterations":5,"id":"bad id!"}""", "\"id\" must be"),
        ["numeric id"] = ("""{"iterations":5,"id":7}""", "\"id\" must be"),
        ["attempt zero"] = ("""{"iterations":5,"attempt":0}""", "\"attempt\" must be"),
        ["attempt string"] = ("""{"iterations":5,"attempt":"2"}""", "\"attempt\" must be"),
        ["attempt fraction"] = ("""{"iterations":5,"attempt":1.5}""", "\"attempt\" must be"),
        ["enqueuedAt words"] = ("""{"iterations":5,"enqueuedAt":"yesterday"}""", "ISO 8601"),
        ["1 MiB of digits"] = (MiB, "byte limit"),
        ["1 MiB envelope"] = ("{\"iterations\":5,\"pad\":\"" + MiB + "\"}", "byte limit"),
        ["70 KB of spaces"] = (new string(' ', 70_000), "byte limit"),
    };

    public static TheoryData<string> RawCases => [.. Raw.Keys];

    /// <summary>One real worker for the whole corpus: it must survive every entry.</summary>
    public sealed class RawWorker : IAsyncLifetime
    {
        public RedisServer Server { get; } = new();

        public string Queue { get; } = TestRedisServer.NewQueueName();

        public WorkerProcess Worker { get; private set; } = default!;

        public async Task InitializeAsync()
        {
            await Server.InitializeAsync();
            Worker = WorkerProcess.Start(WorkerProcess.Env(Server, Queue));
            await Worker.WaitForLineAsync(l => l.StartsWith("starting"), TimeSpan.FromSeconds(60), "the worker to start");
        }

        public async Task DisposeAsync()
        {
            await Worker.DisposeAsync();
            await Server.DisposeAsync();
        }
    }

    public sealed class QueueDoor(RawWorker fixture) : IClassFixture<RawWorker>
    {
        [Theory]
        [MemberData(nameof(RawCases), MemberType = typeof(BadInputFacts))]
        public async Task BadEntry_IsDeadLetteredWithItsReason_TheNextTaskRuns_AndTheWorkerCarriesOn(string name)
        {
            var (entry, says) = Raw[name];
            var db = fixture.Server.Db;
            var keys = new QueueKeys(fixture.Queue);
            string sentinel = "after-" + Guid.NewGuid().ToString("N")[..8];
            long deadBefore = await db.ListLengthAsync(keys.DeadLetters);

            await db.ListRightPushAsync(keys.Queue, [entry, $$"""{"id":"{{sentinel}}","iterations":100}"""]);

            await Eventually.WaitAsync(async () => (await TaskStatusRecord.ReadAsync(db, keys, sentinel))?.State == TaskState.Done,
                TimeSpan.FromSeconds(30), () =>
                {
                    // Read once: the output grows while the message is made.
                    string output = fixture.Worker.Output;
                    return $"the task after the bad entry to run\n{output[^Math.Min(2000, output.Length)..]}";
                });
            Assert.Equal(deadBefore + 1, await db.ListLengthAsync(keys.DeadLetters));
            var letter = JsonSerializer.Deserialize<DeadLetter>((string)(await db.ListGetByIndexAsync(keys.DeadLetters, -1))!)!;
            Assert.Equal(entry, letter.Entry); // kept whole, so it can be corrected and retried
            Assert.Contains(says, letter.Reason);
            Assert.True(letter.Reason.Length < 400, $"a sentence, not an echo: {letter.Reason.Length} characters");
            Assert.Equal(0, await db.ListLengthAsync(keys.Queue));
            Assert.False(fixture.Worker.HasExited, fixture.Worker.Output);
        }
    }

    // ---- Cron schedules and names: refused with a sentence, and the runtime creates nothing ----

    [Theory]
    [InlineData("*/0 * * * *", "not a valid schedule")]
    [InlineData("5-1 * * * *", "starts after it ends")]
    [InlineData("0 0 * DEC-JAN *", "starts after it ends")]
    [InlineData("0 9 * * FRI-MON", "starts after it ends")]
    [InlineData("10-5/2 * * * *", "starts after it ends")]
    [InlineData("99999999999 * * * *", "not a valid schedule")]
    [InlineData("٣ * * * *", "does not accept")]
    [InlineData("１ * * * *", "does not accept")]
    [InlineData("* * * * 8", "not a valid schedule")]
    [InlineData("-1 * * * *", "does not accept")]
    [InlineData("1-70 * * * *", "not a valid schedule")]
    [InlineData(", * * * *", "does not accept")]
    [InlineData("@hourly extra", "not a schedule macro")]
    [InlineData("@HOURLY", "not a schedule macro")]
    [InlineData("\t\n", "empty")]
    [InlineData("* * * * * * *", "has 7 field(s)")]
    [InlineData("*/5 * * * MON#2", "does not accept")]
    [InlineData("0 0 ? * ?", null)] // '?' in both day fields is accepted, as robfig/cron does: the control case
    public void CronSchedule_Bad_IsRefusedWithASentence(string schedule, string? says)
    {
        bool ok = CronSchedule.TryParse(schedule, null, out var result, out var error);

        if (says is null)
        {
            Assert.True(ok, error);
            return;
        }

        Assert.False(ok);
        Assert.Null(result);
        Assert.Contains(says, error);
    }

    [Fact]
    public void CronSchedule_VeryLong_IsRefusedWithAShortSentence()
    {
        string schedule = string.Join(",", Enumerable.Range(0, 3000).Select(i => (i % 60).ToString())) + " * * * *";

        // Kubernetes would accept a long list of minutes; what matters is that it neither throws nor echoes 10 kB back.
        bool ok = CronSchedule.TryParse(schedule + " extra", null, out _, out var error);

        Assert.False(ok);
        Assert.Contains("field(s)", error);
        Assert.True(error!.Length < 400, $"a sentence, not an echo of the input: {error.Length} characters");
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("Europe/Atlantis")]
    [InlineData("UTC+25")]
    [InlineData("/usr/share/zoneinfo/UTC")]
    public void CronTimeZone_Bad_IsRefusedWithASentence(string zone)
    {
        Assert.False(CronSchedule.TryParse("* * * * *", zone, out _, out var error));
        Assert.Contains("time zone", error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Add_Work")]
    [InlineData("UPPER")]
    [InlineData("-lead")]
    [InlineData("trail-")]
    [InlineData("a.b")]
    [InlineData("with space")]
    [InlineData("tâche")]
    [InlineData("addwork\n")]
    [InlineData("addwork\r\n")]
    [InlineData("abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghi")] // 64 characters
    public void JobName_Bad_IsRefusedWithASentence(string name)
    {
        var spec = JobSpec.Templates[1].Spec with { Name = name };

        var problems = spec.Validate().ToList();

        Assert.Contains(problems, p => p.Contains("is not valid") && p.Contains("DNS-1123"));
    }

    [Theory]
    [InlineData("cron_job")]
    [InlineData("CronJob")]
    [InlineData("addwork\n")]
    [InlineData("abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij")] // 54: no room for the Jobs' suffix
    public void CronJobName_Bad_IsRefusedWithASentence(string name)
    {
        var spec = CronJobSpec.BookAddWork with { Name = name };

        Assert.Contains(spec.Validate(), p => p.Contains("is not valid"));
    }

    /// <summary>The local runtime, in the dashboard: bad Jobs and CronJobs are refused whole and nothing appears.</summary>
    public sealed class RuntimeDoor(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
    {
        private readonly string _data = Directory.CreateTempSubdirectory("piops-bad-").FullName;
        private DashboardApp _app = default!;

        private IWorkloadRuntime Runtime => _app.Workloads;

        public async Task InitializeAsync() =>
            _app = await DashboardApp.StartWithLocalRuntimeAsync(server, TestRedisServer.NewQueueName(), _data, 0, "00:00:00.5");

        public async Task DisposeAsync()
        {
            await _app.DisposeAsync();
            Directory.Delete(_data, recursive: true);
        }

        [Theory]
        [InlineData("addwork\n", "*/5 * * * *", "is not valid")]
        [InlineData("Add_Work", "*/5 * * * *", "is not valid")]
        [InlineData("addwork", "*/0 * * * *", "not a valid schedule")]
        [InlineData("addwork", "٣ * * * *", "does not accept")]
        public async Task BadCronJob_IsRefused_AndNothingIsCreated(string name, string schedule, string says)
        {
            var spec = CronJobSpec.BookAddWork with { Name = name, Schedule = schedule };

            var error = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.CreateCronJobAsync(spec));

            Assert.Contains(says, error.Message);
            Assert.Empty(Runtime.Current.CronJobs);
        }

        [Theory]
        [InlineData("addwork\n")]
        [InlineData("")]
        public async Task BadJob_IsRefused_AndNothingIsCreated(string name)
        {
            var spec = JobSpec.Templates[1].Spec with { Name = name };

            var error = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.CreateJobAsync(spec));

            Assert.Contains("Nothing was created", error.Message);
            Assert.Empty(Runtime.Current.Jobs);
        }

        private const string Container = "\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: pi-container\n        image: piops-worker\n";

        public static TheoryData<string, string, string> BadYaml => new()
        {
            { "empty", "", "Paste a Job's YAML" },
            { "a Pod", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n", "only a batch/v1 Job" },
            { "a CronJob", "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c\n", "only a batch/v1 Job" },
            { "an old Job API", "apiVersion: batch/v1beta1\nkind: Job\nmetadata:\n  name: j\n", "only a batch/v1 Job" },
            { "no kind", "metadata:\n  name: j\n", "document without a kind" },
            { "unknown spec field", "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\nspec:\n  parallelizm: 2" + Container, "parallelizm" },
            { "unknown metadata field", "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n  colour: blue\nspec:" + Container, "colour" },
            { "no name", "apiVersion: batch/v1\nkind: Job\nmetadata:\n  labels: {}\nspec:" + Container, "no metadata.name" },
            { "invalid name", "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: Bad_Name\nspec:" + Container, "DNS-1123" },
            { "not YAML", "apiVersion: batch/v1\nkind: Job\nmetadata: [unclosed", "not a valid Job" },
        };

        [Theory]
        [MemberData(nameof(BadYaml))]
        public async Task BadYaml_IsRefusedWithASentence_AndNothingIsCreated(string what, string yaml, string says)
        {
            var error = await Assert.ThrowsAsync<OperatorActionException>(() => Runtime.CreateJobFromYamlAsync(yaml));

            Assert.Contains(says, error.Message);
            Assert.Contains("Nothing was created", error.Message);
            Assert.True(error.Message.Length < 600, $"{what}: a sentence, not an echo ({error.Message.Length} characters)");
            Assert.Empty(Runtime.Current.Jobs);
        }
    }
}
