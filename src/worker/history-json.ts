/**
 * A run's event history as JSON and back, in the proto3 JSON form `temporal workflow show --output json` and the
 * Web UI's download use, and that `Worker.runReplayHistory` accepts.
 *
 * Why not `historyToJSON` / `historyFromJSON` from `@temporalio/common`: they check `instanceof Type` against
 * common's own protobufjs, while the history type belongs to `@temporalio/proto`'s. When npm installs those as two
 * copies (it does here: grpc's protobufjs 7 takes the top-level slot, so each Temporal package nests its own
 * protobufjs 8), both throw "type must be a Type". Converting through the protobufjs copy that `@temporalio/proto`
 * itself loads works whatever the layout.
 */
import { createRequire } from 'node:module';
import type { History } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options: { ignoreUnknownFields: boolean }): unknown;
}

const protojson = createRequire(require.resolve('@temporalio/proto'))('protobufjs/ext/protojson') as ProtoJson;
const HistoryType = temporal.api.history.v1.History;

/** The history as pretty-printed proto3 JSON. */
export function historyToJson(history: History): string {
  return JSON.stringify(protojson.toJson(HistoryType, HistoryType.fromObject(history)), null, 2);
}

/** Parses proto3 JSON (as {@link historyToJson} writes it) into a history; unknown fields are ignored. */
export function historyFromJson(json: unknown): History {
  const events = (json as { events?: unknown } | null)?.events;
  if (!Array.isArray(events) || events.length === 0) throw new TypeError('no events');
  return protojson.fromJson(HistoryType, json, { ignoreUnknownFields: true }) as History;
}
