using Postern.Store;

namespace Postern.UnitTests.Store;

public sealed class DatabaseDurabilityTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Durable_writes_commit_with_synchronous_full_and_volatile_ones_without()
    {
        await using var fixture = new StoreFixture();
        var database = fixture.Store.Database;

        // PRAGMA synchronous: 2 = FULL (the WAL is fsynced at commit), 0 = OFF.
        Assert.Equal(0L, await database.WriteVolatileAsync(w => w.Command("PRAGMA synchronous").Scalar<long>(), None));
        Assert.Equal(2L, await database.WriteAsync(w => w.Command("PRAGMA synchronous").Scalar<long>(), None));
        Assert.Equal(0L, await database.WriteVolatileAsync(w => w.Command("PRAGMA synchronous").Scalar<long>(), None));
    }

    [Fact]
    public async Task A_volatile_write_is_committed_and_seen_by_readers_and_survives_a_clean_restart()
    {
        await using var fixture = new StoreFixture();
        await fixture.Store.Database.WriteVolatileAsync(w => w.Command("CREATE TABLE scratch (v INTEGER)").Execute(), None);
        await fixture.Store.Database.WriteVolatileAsync(w => w.Command("INSERT INTO scratch (v) VALUES (42)").Execute(), None);

        Assert.Equal(42L, await fixture.Store.Database.ReadAsync(c => c.CreateCommand("SELECT v FROM scratch").Scalar<long>(), None));
        await fixture.ReopenAsync();
        Assert.Equal(42L, await fixture.Store.Database.ReadAsync(c => c.CreateCommand("SELECT v FROM scratch").Scalar<long>(), None));
    }

    [Fact]
    public async Task Kept_read_statements_never_hold_back_a_checkpoint()
    {
        await using var fixture = new StoreFixture();
        var database = fixture.Store.Database;
        await database.WriteAsync(w => w.Command("CREATE TABLE scratch (v INTEGER)").Execute(), None);
        for (var i = 0; i < 50; i++)
        {
            var value = i;
            await database.WriteAsync(w => w.Command("INSERT INTO scratch (v) VALUES (@v)", ("@v", value)).Execute(), None);
            Assert.Equal(value + 1L, await database.ReadAsync(c => c.CreateCommand("SELECT COUNT(*) FROM scratch").Scalar<long>(), None));
            Assert.Single(await database.ReadAsync(c => c.CreateCommand("SELECT v FROM scratch WHERE v = @v", ("@v", value)).Query(r => r.GetInt64(0)), None));
        }

        // A kept statement left unreset would hold a WAL snapshot open: a TRUNCATE checkpoint would then report busy (1).
        await using var outside = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + Path.Combine(fixture.Directory, "postern.db"));
        await outside.OpenAsync();
        Assert.Equal([0L], outside.CreateCommand("PRAGMA wal_checkpoint(TRUNCATE)").Query(r => r.GetInt64(0)));
    }
}
