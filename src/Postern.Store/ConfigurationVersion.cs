namespace Postern.Store;

/// <summary>
/// A counter that every configuration change moves on (settings, virtual servers, certificate assignments), in the
/// same transaction. Nodes sharing a store watch it to apply a change made through another node.
/// </summary>
public static class ConfigurationVersion
{
    public static void Bump(WriteContext w) => w.Command("UPDATE counters SET value = value + 1 WHERE name = 'config_version'").Execute();
}
