/**
 * How `jipper --help` and `jipper <command> --help` read: fitted to the terminal (or `COLUMNS`, else 80), and each
 * command's help lists the global options (`--address`, `--task-queue`...) it takes too. Where the column of
 * descriptions would be too narrow to read (a long option beside it, at 80 columns), the description goes under its
 * term, indented, and wraps at the full width: no line is longer than the width.
 */
import type { HelpConfiguration } from 'commander';
import { Help } from 'commander';
import { io } from './io';
import { outputWidth } from './table';

/** Spaces before a description set under its term. */
const STACKED_INDENT = 6;

/** The width help is fitted to: the terminal's, `COLUMNS`, else 80. */
export function helpWidth(stream = io().stdout): number {
  return outputWidth(stream) ?? 80;
}

export const HELP_CONFIGURATION: HelpConfiguration = {
  showGlobalOptions: true,
  formatItem(this: Help, term: string, termWidth: number, description: string, helper: Help): string {
    const width = this.helpWidth ?? 80;
    const beside = width - termWidth - 4;
    if (!description || beside >= this.minWidthToWrap) {
      return Help.prototype.formatItem.call(this, term, termWidth, description, helper);
    }
    const indent = ' '.repeat(STACKED_INDENT);
    const wrapped = helper.boxWrap(description, width - STACKED_INDENT);
    return `  ${term}\n${indent}${wrapped.replace(/\n/g, `\n${indent}`)}`;
  },
};
