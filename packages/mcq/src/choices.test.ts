import { renderChoices } from './choices';
import { letterLabels, letterRange, targetLabels } from './labels';

describe('choice lines and labels', () => {
  it("renders 'A) text' lines, or the reference's swapped 'text) A'", () => {
    expect(renderChoices(['iron', 'wood'], ['A', 'B'])).toBe('A) iron\nB) wood');
    expect(renderChoices(['iron', 'wood'], ['A', 'B'], 'text-label')).toBe('iron) A\nwood) B');
    expect(renderChoices(['only'], ['1'])).toBe('1) only');
    expect(() => renderChoices(['a', 'b'], ['A'])).toThrow('renderChoices: 2 texts but 1 labels');
  });

  it('letter labels, ranges and spaced targets', () => {
    expect(letterLabels(4)).toEqual(['A', 'B', 'C', 'D']);
    expect(letterRange(5)).toBe('A-E');
    expect(letterRange(1)).toBe('A');
    expect(() => letterLabels(0)).toThrow(RangeError);
    expect(targetLabels(['True', 'False'], true)).toEqual([' True', ' False']);
    expect(targetLabels(['A', 'B'], false)).toEqual(['A', 'B']);
  });
});
