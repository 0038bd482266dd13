using Postern.Store;

namespace Postern.IntegrationTests.Store;

/// <summary>The embedded database holds password hashes and encrypted keys: no other user may read it.</summary>
public sealed class DataFolderPermissionsTests
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public async Task The_database_files_are_the_servers_users_alone_even_in_a_folder_made_open()
    {
        var folder = Path.Combine(Path.GetTempPath(), "postern-perm-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var database = Path.Combine(folder, "postern.db");
        try
        {
            var options = new StoreOptions { DataDirectory = folder, PasswordIterations = 1000 };
            await using (var store = PosternStoreFactory.Open(options))
            {
                Assert.Equal("example.test", (await store.Directory.AddDomainAsync("example.test", CancellationToken.None)).Name);
            }

            Assert.Equal(OwnerOnly, File.GetUnixFileMode(database));

            // An install from before, whose database the umask left readable to all: put right at the next start.
            File.SetUnixFileMode(database, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            await using (var store = PosternStoreFactory.Open(options))
            {
                Assert.True((await store.Directory.AddAccountAsync("alice@example.test", "correct horse", CancellationToken.None)).IsOk);
                Assert.Equal(OwnerOnly, File.GetUnixFileMode(database));
                Assert.Equal(OwnerOnly, File.GetUnixFileMode(database + "-wal"));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
