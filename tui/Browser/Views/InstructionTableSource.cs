using Terminal.Gui.Views;

namespace Ether.Replay.Tui.Views;

/// <summary>The instruction list as a virtual table: a row per step, cells asked of <see cref="InstructionRows"/>
/// (which pages them from the replay engine) only for the rows on screen.</summary>
internal sealed class InstructionTableSource(InstructionRows rows) : ITableSource
{
    // Bytes last: on a narrow screen they are what gets cut, never the events.
    public const int StepColumn = 0, TidColumn = 1, AddressColumn = 2, InstructionColumn = 3, EventsColumn = 4, BytesColumn = 5;

    public string[] ColumnNames { get; } = ["step", "tid", "address", "instruction", "events", "bytes"];
    public int Columns => ColumnNames.Length;
    public int Rows => rows.Count;

    public object this[int row, int col]
    {
        get
        {
            var line = rows.Get(InstructionRows.StepOfRow(row));
            return col switch
            {
                StepColumn => line.Step.ToString("N0"),
                TidColumn => line.Tid.ToString(),
                AddressColumn => line.Address,
                InstructionColumn => line.Disassembly,
                EventsColumn => line.Marks,
                _ => line.Bytes,
            };
        }
    }
}
