import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { apiContract, contractDifferences, propertyPaths } from './contract';
import { buildOpenApiDocument } from './document';
import type { Operation, OperationGroup } from './operation';

const Item = v.object({ id: v.string(), tags: v.array(v.string()) });
const Page = v.object({ items: v.array(Item), next: v.nullable(Item) });
const info = { title: 't', version: '1' };

const op = (fields: Partial<Operation> = {}): Operation => ({
  method: 'get',
  path: '/api/v1/items/{item_id}',
  tags: ['items'],
  summary: 'An item',
  access: 'user',
  responses: { 200: { description: 'The item', schema: Item } },
  ...fields,
});

describe('buildOpenApiDocument', () => {
  it('publishes named schemas once and refers to them', () => {
    const doc = buildOpenApiDocument(
      [
        {
          schemas: { Item, Page },
          operations: [op({ responses: { 200: { description: 'p', schema: Page } } })],
        },
      ],
      info,
    );
    expect(doc.components.schemas.Page).toMatchObject({
      properties: { items: { items: { $ref: '#/components/schemas/Item' } } },
    });
    const get = doc.paths['/api/v1/items/{item_id}']?.get;
    expect(get?.responses['200']?.content?.['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/Page',
    });
  });

  it('declares path parameters, query parameters and the errors access and input imply', () => {
    const doc = buildOpenApiDocument(
      [
        {
          schemas: {},
          operations: [
            op({
              method: 'put',
              access: 'admin',
              query: v.object({ dry_run: v.optional(v.string()), mode: v.string() }),
              body: { json: Item },
            }),
          ],
        },
      ],
      info,
    );
    const put = doc.paths['/api/v1/items/{item_id}']?.put;
    expect(put?.parameters.map(({ name, in: where, required }) => [name, where, required])).toEqual([
      ['item_id', 'path', true],
      ['dry_run', 'query', false],
      ['mode', 'query', true],
    ]);
    expect(Object.keys(put?.responses ?? {}).sort()).toEqual(['200', '401', '403', '413', '422']);
    expect(put?.requestBody?.content).toHaveProperty(['application/json']);
    expect(put?.security).toEqual([{ sessionCookie: [] }]);
  });

  it('refuses an operation described twice, a parameter the path lacks, and one name for two schemas', () => {
    const group = (operations: Operation[], schemas = {}): OperationGroup => ({ schemas, operations });
    expect(() => buildOpenApiDocument([group([op(), op()])], info)).toThrow(/described twice/);
    expect(() =>
      buildOpenApiDocument([group([op({ params: v.object({ other: v.string() }) })])], info),
    ).toThrow(/path parameter other/);
    expect(() =>
      buildOpenApiDocument([group([], { Item }), group([], { Item: v.object({}) })], info),
    ).toThrow(/Two schemas are named Item/);
  });
});

describe('the contract of a document', () => {
  const doc = buildOpenApiDocument(
    [
      {
        schemas: { Item, Page },
        operations: [op({ responses: { 200: { description: 'p', schema: Page } } })],
      },
    ],
    info,
  );

  it('lists property paths through references, arrays and unions', () => {
    expect(apiContract(doc)['GET /api/v1/items/{item_id}']).toEqual({
      params: ['item_id'],
      body: [],
      status: '200',
      response: ['items', 'items[].id', 'items[].tags', 'next', 'next.id', 'next.tags'],
    });
  });

  it('stops at a schema that refers to itself', () => {
    const document = {
      paths: {},
      components: { schemas: { Node: { properties: { child: { $ref: '#/components/schemas/Node' } } } } },
    };
    expect(propertyPaths({ $ref: '#/components/schemas/Node' }, document)).toEqual(['child']);
  });

  it('reports what is missing and a different success status; additions are fine', () => {
    const reference = { params: ['a', 'b'], body: ['x'], status: '200', response: ['r', 'old'] };
    const ours = { params: ['a', 'c'], body: ['x', 'y'], status: '201', response: ['r', 'new'] };
    expect(contractDifferences('GET /p', reference, ours)).toEqual([
      'GET /p: parameter b is missing',
      'GET /p: answers 201 on success, the reference 200',
      'GET /p: response property old is missing',
    ]);
  });
});
