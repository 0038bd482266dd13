using Postern.Host.Serve;

namespace Postern.Host.Admin;

internal static class QueueEndpoints
{
    public static void Map(RouteGroupBuilder api, PosternServer server)
    {
        var queue = server.Store.Queue;
        api.MapGet("/queue", async (CancellationToken ct) => Results.Ok(await queue.ListAsync(ct)));
        api.MapPost("/queue/{id:long}/retry", async (long id, CancellationToken ct) =>
            await queue.RetryNowAsync(id, ct) ? Results.NoContent() : AdminApi.NotFound($"no queued message {id}"));
        api.MapDelete("/queue/{id:long}", async (long id, CancellationToken ct) =>
            await queue.DeleteAsync(id, ct) ? Results.NoContent() : AdminApi.NotFound($"no queued message {id}"));
    }
}
