using Postern.Store;

namespace Postern.UnitTests.Store;

/// <summary>A real SQLite store in a temporary folder, deleted afterwards.</summary>
public sealed class StoreFixture : IAsyncDisposable
{
    public StoreFixture()
    {
        Directory = Path.Combine(Path.GetTempPath(), "postern-store-" + Guid.NewGuid().ToString("N"));
        Store = PosternStoreFactory.Open(Postern.Tests.TestStoreOptions.For(Directory));
    }

    public string Directory { get; }

    public IPosternStore Store { get; private set; }

    public async Task ReopenAsync()
    {
        await Store.DisposeAsync();
        Store = PosternStoreFactory.Open(Postern.Tests.TestStoreOptions.For(Directory));
    }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        try
        {
            Postern.Tests.TestStoreOptions.Drop(Directory);
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
