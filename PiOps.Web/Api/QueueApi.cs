using System.Globalization;
using System.Text;
using System.Text.Json;
using PiOps.Shared.Queue;
using PiOps.Web.Queue;

namespace PiOps.Web.Api;

/// <summary>
/// The HTTP API for producers and scripts. Errors are RFC 7807 problem details; a bad request enqueues nothing.
/// </summary>
public static class QueueApi
{
    public static IEndpointRouteBuilder MapQueueApi(this IEndpointRouteBuilder app)
    {
        // A producer's request is small: 1 MiB holds 100,000 iteration counts.
        var api = app.MapGroup("/api").WithTags("Queue").WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(1_048_576));

        api.MapPost("/tasks", EnqueueAsync)
            .WithName("Enqueue")
            .RequireAuthorization(Security.Roles.Operate)
            .WithSummary("Enqueue tasks")
            .WithDescription("Body: {\"iterations\": 5000000, \"count\": 1, \"format\": \"envelope\"|\"plain\"} or {\"tasks\": [5000000, 100]}. " +
                             "All tasks are checked first; a bad one rejects the whole request. With an Idempotency-Key header, a retry " +
                             "of the same request returns the first one's outcome and enqueues nothing.")
            .Accepts<EnqueueRequest>("application/json")
            .Produces<EnqueueOutcome>(StatusCodes.Status201Created)
            .ProducesValidationProblem();

        api.MapGet("/queue", (IQueueState monitor) => TypedResults.Ok(QueueStats.From(monitor.Current)))
            .WithName("QueueStats").WithSummary("Queue statistics from the latest sample");

        api.MapGet("/tasks/{id}", GetTaskAsync)
            .WithName("TaskStatus").WithSummary("A task's status by id")
            .Produces<TaskStatusRecord>().ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/results", async (IQueueOperations ops, int? limit) => TypedResults.Ok(await ops.RecentResultsAsync(limit ?? 50)))
            .WithName("RecentResults").WithSummary("Recent results, newest first");

        api.MapGet("/dead-letters", async (IQueueOperations ops, int? offset, int? limit) =>
                TypedResults.Ok(await ops.DeadLettersAsync(offset ?? 0, limit ?? 50)))
            .WithName("DeadLetters").WithSummary("A page of dead letters, oldest first");

        api.MapPost("/dead-letters/retry", async (IQueueOperations ops) =>
            {
                var (retried, left) = await ops.RetryAllDeadLettersAsync();
                return TypedResults.Ok(new { retried, left });
            })
            .WithName("RetryAllDeadLetters").RequireAuthorization(Security.Roles.Operate).WithSummary("Put every retryable dead letter back on the queue");

        return app;
    }

    private static async Task<IResult> EnqueueAsync(HttpContext http, IQueueOperations ops, EnqueueIdempotency idempotency)
    {
        byte[] body;
        try
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
            body = buffer.ToArray();
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            const string tooLarge = "The request is over 1 MiB; send at most 100,000 tasks per request. Nothing was enqueued.";
            await ops.RecordAsync("enqueue", $"a body over 1 MiB", false, "refused: " + tooLarge);
            return TypedResults.Problem(tooLarge, statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        // What the audit shows of a refused request: its start, as text (the Audit page and CSV neutralise it).
        string shown = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 200)) + (body.Length > 200 ? "…" : "");

        async Task<IResult> RefuseAsync(IResult result, string reason)
        {
            await ops.RecordAsync("enqueue", shown, false, "refused: " + reason);
            return result;
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            return await RefuseAsync(Problem("The body is not valid JSON: " + ex.Message), "the body is not valid JSON: " + ex.Message);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                const string notObject = "The body must be a JSON object such as {\"iterations\": 5000000, \"count\": 10}.";
                return await RefuseAsync(Problem(notObject), notObject);
            }

            var errors = new Dictionary<string, string[]>();
            var root = doc.RootElement;
            var format = ops.Queue.ProducerFormat;
            if (root.TryGetProperty("format", out var f))
            {
                if (f.ValueKind == JsonValueKind.String && Enum.TryParse<EntryFormat>(f.GetString(), ignoreCase: true, out var parsed)
                    && Enum.IsDefined(parsed) && !int.TryParse(f.GetString(), out _))
                {
                    format = parsed;
                }
                else
                {
                    errors["format"] = ["Format must be \"envelope\" or \"plain\"."];
                }
            }

            long[] tasks = [];
            if (root.TryGetProperty("tasks", out var list))
            {
                if (list.ValueKind != JsonValueKind.Array)
                {
                    errors["tasks"] = ["Tasks must be an array of iteration counts."];
                }
                else if (list.GetArrayLength() == 0 || list.GetArrayLength() > ops.MaxBatch)
                {
                    errors["tasks"] = [$"Tasks must hold from 1 to {ops.MaxBatch:N0} iteration counts (got {list.GetArrayLength():N0})."];
                }
                else
                {
                    tasks = new long[list.GetArrayLength()];
                    int i = 0;
                    foreach (var item in list.EnumerateArray())
                    {
                        var (n, error) = Read(item, text => EnqueueValidation.Iterations(text, ops.Queue.MaxIterations));
                        if (error is not null)
                        {
                            errors[$"tasks[{i}]"] = [error];
                            if (errors.Count >= 20)
                            {
                                break;
                            }
                        }

                        tasks[i++] = n;
                    }
                }
            }
            else
            {
                if (!root.TryGetProperty("iterations", out var it))
                {
                    errors["iterations"] = ["Iterations is required: a whole number, e.g. {\"iterations\": 5000000}."];
                }

                var (n, error) = root.TryGetProperty("iterations", out it) ? Read(it, text => EnqueueValidation.Iterations(text, ops.Queue.MaxIterations)) : (0, null);
                if (error is not null)
                {
                    errors["iterations"] = [error];
                }

                long count = 1;
                if (root.TryGetProperty("count", out var c))
                {
                    // Any count that is not one (null, a string of letters, 0) gets the one sentence with its range.
                    var (k, countError) = Read(c, text => EnqueueValidation.Count(text, ops.MaxBatch));
                    if (countError is not null)
                    {
                        errors["count"] = [EnqueueValidation.Count(null, ops.MaxBatch).Problem!];
                    }

                    count = k;
                }

                if (errors.Count == 0)
                {
                    tasks = Enumerable.Repeat(n, (int)count).ToArray();
                }
            }

            if (errors.Count > 0)
            {
                return await RefuseAsync(TypedResults.ValidationProblem(errors, title: "The request was not valid; nothing was enqueued."),
                    string.Join(" ", errors.Select(e => $"{e.Key}: {e.Value[0]}")));
            }

            string? key = http.Request.Headers.TryGetValue(EnqueueIdempotency.Header, out var keys) ? keys.ToString() : null;
            string user = http.User.Identity?.Name ?? "anonymous";
            if (key is not null)
            {
                if (EnqueueIdempotency.Check(key) is { } keyError)
                {
                    return await RefuseAsync(Problem(keyError), keyError);
                }

                var claim = await idempotency.ClaimAsync(user, key, body);
                switch (claim.State)
                {
                    case ClaimState.Replay:
                        await ops.RecordAsync("enqueue", shown, true,
                            $"nothing enqueued: a retry with the {EnqueueIdempotency.Header} of the request at {claim.FirstAt}, answered with its outcome");
                        http.Response.Headers["Idempotent-Replayed"] = "true";
                        return TypedResults.Created("/api/queue", claim.Outcome!);
                    case ClaimState.InProgress:
                        return await RefuseAsync(TypedResults.Problem(
                            $"The first request with this {EnqueueIdempotency.Header} (at {claim.FirstAt}) is still being enqueued; retry in a moment to get its outcome. Nothing was enqueued.",
                            statusCode: StatusCodes.Status409Conflict, title: "Request in progress"), "the first request with this key is still running");
                    case ClaimState.FailedPartWay:
                        return await RefuseAsync(TypedResults.Problem(
                            $"The first request with this {EnqueueIdempotency.Header} (at {claim.FirstAt}) failed part-way: {claim.Error} Nothing more was enqueued now.",
                            statusCode: StatusCodes.Status503ServiceUnavailable, title: "The first request failed part-way"),
                            "the first request with this key failed part-way");
                    case ClaimState.DifferentRequest:
                        return await RefuseAsync(TypedResults.Problem(
                            $"This {EnqueueIdempotency.Header} was used at {claim.FirstAt} for a different request; use a new key for a new request. Nothing was enqueued.",
                            statusCode: StatusCodes.Status422UnprocessableEntity, title: "Idempotency key reused"), "the key was used for a different request");
                }
            }

            // Not cancelled when the client goes away: an enqueue either runs to its end, and the audit says how many
            // tasks and which ids, or fails before it starts. A client that gave up retries with its Idempotency-Key
            // and gets this outcome instead of a second copy.
            EnqueueOutcome outcome;
            try
            {
                outcome = await ops.EnqueueManyAsync(tasks, format, cancellationToken: CancellationToken.None);
            }
            catch (OperatorActionException ex)
            {
                // The guarded operations wrote the audit entry with this sentence. Part-way, the key keeps the account
                // of what landed for the retries; before anything landed it is free again.
                if (key is not null)
                {
                    idempotency.Settle(ex.InnerException is EnqueueIncompleteException
                        ? () => idempotency.FailAsync(user, key, ex.Message)
                        : () => idempotency.ReleaseAsync(user, key));
                }

                return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status503ServiceUnavailable,
                    title: ex.InnerException is EnqueueIncompleteException ? "The enqueue failed part-way" : "Nothing was enqueued");
            }
            catch when (key is not null)
            {
                idempotency.Settle(() => idempotency.ReleaseAsync(user, key));
                throw;
            }

            outcome = outcome with { Iterations = outcome.Iterations.Count <= 1000 ? outcome.Iterations : [] };
            if (key is not null)
            {
                try
                {
                    await idempotency.CompleteAsync(user, key, outcome, format);
                }
                catch (Exception ex) when (PiOps.Shared.Redis.RedisFailure.Is(ex))
                {
                    // Redis went away right after the enqueue: record the outcome once it is back.
                    idempotency.Settle(() => idempotency.CompleteAsync(user, key, outcome, format));
                }
            }

            return TypedResults.Created("/api/queue", outcome);
        }
    }

    // A JSON number, or a string of digits as the book's producer sends them, read by the enqueue rules.
    private static (long Value, string? Error) Read<T>(JsonElement e, Func<string, (T Value, string? Problem)> rule) where T : struct, IConvertible
    {
        if (e.ValueKind is not (JsonValueKind.Number or JsonValueKind.String))
        {
            return (0, $"Expected a whole number, not {e.ValueKind.ToString().ToLowerInvariant()}.");
        }

        var (value, problem) = rule(e.ValueKind == JsonValueKind.Number ? e.GetRawText() : e.GetString() ?? "");
        return (problem is null ? value.ToInt64(CultureInfo.InvariantCulture) : 0, problem);
    }

    private static async Task<IResult> GetTaskAsync(string id, IQueueOperations ops)
    {
        if (!TaskIds.IsValid(id))
        {
            return Problem("A task id is 1 to 100 letters, digits, '-', '_', '.' or ':'.");
        }

        var status = await ops.GetTaskAsync(id);
        return status is null
            ? TypedResults.Problem($"No task {id} is known: it never existed, or its status expired.", statusCode: 404, title: "Task not found")
            : TypedResults.Ok(status);
    }

    private static IResult Problem(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "The request was not valid; nothing was enqueued.");
}

/// <summary>The enqueue request, for the OpenAPI document; the endpoint reads the JSON itself to explain every error.</summary>
public sealed record EnqueueRequest(long? Iterations, int? Count, string? Format, long[]? Tasks);

/// <summary>Queue statistics as the API and the hub publish them.</summary>
public sealed record QueueStats(
    DateTimeOffset At, bool RedisAvailable, string? RedisError, long Depth, long InFlight, long DeadLetters,
    long Enqueued, long Done, long Failed, long Recovered, long Fenced, double DonePerSecond, double FailedPerSecond,
    double? OldestAgeSeconds, int WorkersAlive, bool Paused, double? DrainEstimateSeconds)
{
    public static QueueStats From(QueueSnapshot s) => new(s.At, s.RedisAvailable, s.RedisError, s.Depth, s.InFlight,
        s.DeadLetters, s.Totals.Enqueued, s.Totals.Done, s.Totals.Failed, s.Totals.Recovered, s.Totals.Fenced, s.DonePerSecond,
        s.FailedPerSecond, s.OldestAge?.TotalSeconds, s.WorkersAlive, s.Paused, s.DrainEstimate?.TotalSeconds);
}
