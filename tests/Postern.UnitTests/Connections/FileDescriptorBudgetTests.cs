using Postern.Server.Connections;

namespace Postern.UnitTests.Connections;

public sealed class FileDescriptorBudgetTests
{
    [Fact]
    public void The_budget_leaves_a_reserve_beside_the_descriptors_already_open()
    {
        Assert.Equal(1_048_576 - 240 - 131_072, FileDescriptorBudget.ForLimit(1_048_576, 240));
        Assert.Equal(1024 - 240 - 256, FileDescriptorBudget.ForLimit(1024, 240));
        Assert.Equal(16, FileDescriptorBudget.ForLimit(300, 240));
        Assert.Equal(int.MaxValue, FileDescriptorBudget.ForLimit(null, 240));
        Assert.Equal(1024, FileDescriptorBudget.ParseSoftLimit("Max open files            1024                 524288               files     "));
        Assert.Null(FileDescriptorBudget.ParseSoftLimit("Max open files            unlimited            unlimited            files     "));
    }
}
