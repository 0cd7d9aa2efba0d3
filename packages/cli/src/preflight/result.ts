// One pre-flight check's outcome: ✓/✗ with how to fix it (shared by every check module, no cycles).
export interface CheckResult {
  name: string;
  ok: boolean;
  required: boolean;
  detail: string;
  fix?: string;
  skipped?: boolean;
}
