// Wrong use with no marker: compiling this must fail (proves the check can fail).
import emedia from '../../pkg/index.js';

export async function wrong(): Promise<void> {
  await emedia.mgr.grantRole('C1', ['bob'], 2);
  emedia.mgr.onStreamAdded = (stream: number) => stream;
}
