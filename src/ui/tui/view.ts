/**
 * The ink components: the laid-out lines drawn one per row, truncated to the terminal width
 * (ink measures wide characters), coloured unless colour is off. React.createElement keeps
 * this a .ts file, so the build needs no JSX settings.
 */
import { Box, Text } from 'ink';
import { createElement, type ReactElement } from 'react';
import type { Line, Tone } from './layout.js';

export interface FrameProps {
  lines: readonly Line[];
  columns: number;
  color: boolean;
}

function style(tone: Tone | undefined, color: boolean): { color?: string; bold?: boolean; dimColor?: boolean } {
  if (!color || tone === undefined) return {};
  if (tone === 'bold') return { bold: true };
  if (tone === 'dim') return { dimColor: true };
  return { color: tone };
}

export function Frame({ lines, columns, color }: FrameProps): ReactElement {
  return createElement(
    Box,
    { flexDirection: 'column', width: columns },
    ...lines.map((line, i) =>
      createElement(
        Text,
        { key: i, wrap: 'truncate-end' },
        ...line.map((seg, j) => createElement(Text, { key: j, ...style(seg.tone, color) }, seg.text)),
      ),
    ),
  );
}
