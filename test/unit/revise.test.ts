/**
 * What `jipper revise` tells of a revision, with no server: steps added and removed, steps whose fields changed
 * (a group's own fields, a member's, a job that moved into a group), a new order — and nothing for steps that only had
 * their keys written in another order.
 */
import { stepChanges } from '../../src/cli/commands/revise';
import type { Step } from '../../src/schema/definition';

const before: Step[] = [
  { id: 'a', job: 'work', args: { size: 8, name: 'x' } },
  {
    id: 'g',
    parallel: [
      { id: 'b', job: 'work' },
      { id: 'c', job: 'work' },
    ],
    succeedWhen: 'all',
  },
  { id: 'd', job: 'work' },
];

test('the same steps, keys in another order: nothing changes', () => {
  const same: Step[] = [
    { job: 'work', args: { name: 'x', size: 8 }, id: 'a' },
    {
      succeedWhen: 'all',
      id: 'g',
      parallel: [
        { job: 'work', id: 'b' },
        { id: 'c', job: 'work' },
      ],
    },
    { id: 'd', job: 'work' },
  ];
  expect(stepChanges(before, same)).toEqual({ added: [], removed: [], changed: [] });
});

test('added, removed, changed fields of jobs and groups, a job moved into a group, a new order', () => {
  const after: Step[] = [
    { id: 'd', job: 'work', timeout: '5m' },
    { id: 'a', job: 'work', args: { size: 16, name: 'x' } },
    {
      id: 'g',
      parallel: [
        { id: 'b', job: 'other' },
        { id: 'e', job: 'work' },
      ],
      succeedWhen: 'any',
    },
  ];
  expect(stepChanges(before, after)).toEqual({
    added: ['e'],
    removed: ['c'],
    changed: [
      { step: 'g', fields: ['succeedWhen'] },
      { step: 'd', fields: ['timeout'] },
      { step: 'a', fields: ['args'] },
      { step: 'b', fields: ['job'] },
    ],
    reordered: ['d', 'a', 'g'],
  });
  const grouped: Step[] = [
    before[0] as Step,
    {
      id: 'g',
      parallel: [
        { id: 'b', job: 'work' },
        { id: 'c', job: 'work' },
        { id: 'd', job: 'work' },
      ],
      succeedWhen: 'all',
    },
  ];
  expect(stepChanges(before, grouped).changed).toEqual([{ step: 'd', fields: ['group'] }]);
});
