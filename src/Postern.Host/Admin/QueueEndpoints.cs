using Postern.Host.Serve;

namespace Postern.Host.Admin;

internal static class QueueEndpoints
{
    public static void Map(RouteGroupBuilder api, PosternServer server)
    {
        var queue = server.Store.Queue;
        api.MapGet("/queue", async (CancellationToken ct) => Results.Ok(await queue.ListAsync(ct)));
        api.MapPost("/queue/{id:long}/retry", async (long id, CancellationToken ct) =>
        {
            if (!await queue.RetryNowAsync(id, ct))
            {
                return AdminApi.NotFound($"no queued message {id}");
            }

            server.Outbound.Wake();
            return Results.NoContent();
        });

        // Every queued message tried now, as Postfix's `postqueue -f` and Exchange's "Retry Queue" do.
        api.MapPost("/queue/flush", async (CancellationToken ct) =>
        {
            var retried = 0;
            foreach (var message in await queue.ListAsync(ct))
            {
                retried += await queue.RetryNowAsync(message.Id, ct) ? 1 : 0;
            }

            server.Outbound.Wake();
            return Results.Ok(new QueueFlushView(retried));
        });
        api.MapDelete("/queue/{id:long}", async (long id, CancellationToken ct) =>
            await queue.DeleteAsync(id, ct) ? Results.NoContent() : AdminApi.NotFound($"no queued message {id}"));
    }
}

internal sealed record QueueFlushView(int Retried);
