namespace Vio4wd.Sources.Ovsdb;

/// <summary>An Interface row as the OVSDB provider needs it.</summary>
public sealed record OvsdbInterface(string Uuid, string Name, IReadOnlyDictionary<string, string> ExternalIds);
