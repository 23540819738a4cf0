import { ConfigError } from '../../config/config';

/** Refuses `default`: executor pods need a namespace of their own, with its own policies. */
export function checkNamespace(namespace: string): void {
  if (namespace === 'default') {
    throw new ConfigError(
      'KUBERNETES_NAMESPACE must not be default: executor pods need a namespace of their own',
    );
  }
}
