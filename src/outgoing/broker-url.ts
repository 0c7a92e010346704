import { z } from 'zod';

function parsed(value: string): URL | undefined {
  return URL.canParse(value) ? new URL(value) : undefined;
}

/**
 * A broker's or server's URL with one of `schemes` (['amqp:', 'amqps:']). Credentials are refused
 * in it: they go in fields of their own, so that the password is stored encrypted and never shown.
 */
export function brokerUrl(schemes: readonly string[], example: string) {
  return z
    .string()
    .min(1)
    .max(2000)
    .refine((value) => parsed(value) !== undefined, `must be a URL such as ${example}`)
    .refine(
      (value) => {
        const url = parsed(value);
        return url === undefined || schemes.includes(url.protocol);
      },
      `must start with ${schemes.map((scheme) => `${scheme}//`).join(' or ')}`,
    )
    .refine((value) => {
      const url = parsed(value);
      return url === undefined || (url.username === '' && url.password === '');
    }, 'put the credentials in their own fields, not in the URL');
}
